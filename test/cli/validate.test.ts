/**
 * `observed-lambda validate`, the built command line run as a user runs it:
 * against a real Prometheus (known metrics pass; an expected-values file with
 * a wrong and a missing series fails with exit 1 and says which), against an
 * AMP stand-in that checks every SigV4 signature and stores in a real
 * Prometheus, and with the errors a user meets (nothing listening, an unknown
 * workspace, refused credentials, a bad file).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.js';
import { AmpFake } from '../reliability/amp-fake.js';
import { findBinary, requireBinary } from '../support/binaries.js';
import { freePort, PrometheusServer } from '../support/prometheus.js';

const available = findBinary('prometheus') !== undefined || requireBinary('prometheus') !== undefined;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDVALIDATE', AWS_SECRET_ACCESS_KEY: 'validate-secret' };

describe.skipIf(!available)('observed-lambda validate', () => {
  let cli: string;
  let prom: PrometheusServer;
  let dir: string;

  beforeAll(async () => {
    [cli, prom] = await Promise.all([buildCli(), PrometheusServer.start() as Promise<PrometheusServer>]);
    dir = mkdtempSync(join(tmpdir(), 'observed-validate-'));
  });

  afterAll(async () => {
    await prom?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    // A clean environment: no profile or instance credentials of the machine leak in.
    const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, AWS_EC2_METADATA_DISABLED: 'true' };
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args],
        { env: { ...base, ...env }, timeout: 50_000 },
        (error, stdout, stderr) => {
          const code = error ? ((error as { code?: number }).code ?? -1) : 0;
          resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
        },
      );
    });
  }

  const rowsOf = (stdout: string) => stdout.split('\n').filter((l) => /^(PASS|FAIL)\s/.test(l));

  it('sends the known metrics through the remote write exporter and finds every value: exit 0', async () => {
    const result = await run(['validate', '--prometheus-url', prom.url, '--run-id', 'pass-run']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = rowsOf(result.stdout);
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.startsWith('PASS'))).toBe(true);
    expect(result.stdout).toMatch(/observed_validate_requests_total\{observed_validate_run="pass-run"\}\s+42\s+42/);
    // The data is really there, queried independently of the validator.
    expect(await prom.value('observed_validate_latency_seconds_sum{observed_validate_run="pass-run"}')).toBe(10.625);
    expect(await prom.value('observed_validate_temperature_celsius{observed_validate_run="pass-run"}')).toBe(21.5);
  });

  it('an expected-values file with a wrong and a missing series: exit 1 and a table saying which', async () => {
    const file = join(dir, 'expected.json');
    writeFileSync(
      file,
      JSON.stringify({
        'observed_validate_requests_total{observed_validate_run="pass-run"}': 42,
        'observed_validate_temperature_celsius{observed_validate_run="pass-run"}': 20,
        'faas_invocations_total{faas_name="never-sent"}': 3,
      }),
    );
    const result = await run(['validate', '--prometheus-url', prom.url, '--expected', file, '--wait', '1']);
    expect(result.code).toBe(1);
    const rows = rowsOf(result.stdout);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^PASS .*42\s+42$/);
    expect(rows[1]).toMatch(/^FAIL .*temperature.*\s20\s+21\.5$/);
    expect(rows[2]).toMatch(/^FAIL .*never-sent.*\s3\s+no data$/);
    expect(result.stderr).toContain('2 of 3 series');
  });

  it('the same file with the right values passes', async () => {
    const file = join(dir, 'expected-ok.json');
    writeFileSync(
      file,
      JSON.stringify({
        'observed_validate_latency_seconds_bucket{observed_validate_run="pass-run",le="0.5"}': 3,
        'sum(observed_validate_latency_seconds_count{observed_validate_run="pass-run"})': 10,
      }),
    );
    const result = await run(['validate', '--prometheus-url', prom.url, '--expected', file, '--wait', '1']);
    expect(result.code).toBe(0);
    expect(rowsOf(result.stdout)).toHaveLength(2);
  });

  it('nothing listening: exit 3 with the address and the reason', async () => {
    const port = await freePort();
    const result = await run(['validate', '--prometheus-url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot reach the query API at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('bad usage: exit 2 with a message naming the problem', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"up": "lots"}');
    const bad = await run(['validate', '--prometheus-url', prom.url, '--expected', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the value of up is "lots"');
    const none = await run(['validate']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--prometheus-url <url> or --amp-workspace-id');
    const unknown = await run(['validate', '--prometheus-url', prom.url, '--bogus']);
    expect(unknown.code).toBe(2);
  });

  describe('AMP workspace (SigV4-checking stand-in over a real Prometheus)', () => {
    const region = 'eu-west-1';
    const workspaceId = 'ws-0b4c7a1e-5d2f-4e3a-9c8b-7a6f5e4d3c2b';
    let amp: AmpFake;

    beforeAll(async () => {
      amp = await new AmpFake({
        region,
        workspaceId,
        prometheusUrl: prom.url,
        secrets: { [CREDENTIALS.AWS_ACCESS_KEY_ID]: CREDENTIALS.AWS_SECRET_ACCESS_KEY },
      }).start();
    });

    afterAll(async () => {
      await amp?.stop();
    });

    it('finds the query endpoint with DescribeWorkspace, writes and queries signed: exit 0', async () => {
      amp.requests.length = 0;
      const result = await run(
        ['validate', '--amp-workspace-id', workspaceId, '--region', region, '--amp-endpoint-url', amp.url],
        { ...CREDENTIALS, AWS_SESSION_TOKEN: 'token-1' },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(rowsOf(result.stdout).filter((r) => r.startsWith('PASS'))).toHaveLength(8);
      expect(amp.requests.filter((r) => r.verdict !== 'ok')).toEqual([]);
      expect(amp.requests.filter((r) => r.plane === 'control').map((r) => r.path)).toEqual([
        `/workspaces/${workspaceId}`,
      ]);
      const data = amp.requests.filter((r) => r.plane === 'data');
      expect(data.filter((r) => r.path.endsWith('/remote_write'))).toHaveLength(1);
      expect(data.filter((r) => r.path.endsWith('/query')).length).toBeGreaterThanOrEqual(9);
    });

    it('an unknown workspace: exit 3 naming the id and region', async () => {
      const result = await run(
        ['validate', '--amp-workspace-id', 'ws-does-not-exist', '--region', region, '--amp-endpoint-url', amp.url],
        CREDENTIALS,
      );
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`there is no AMP workspace ws-does-not-exist in ${region}`);
    });

    it('a malformed workspace id is refused before any request', async () => {
      const before = amp.requests.length;
      const result = await run(
        ['validate', '--amp-workspace-id', 'ws/../x', '--region', region, '--amp-endpoint-url', amp.url],
        CREDENTIALS,
      );
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('is not an AMP workspace id');
      expect(amp.requests.length).toBe(before);
    });

    it('credentials AMP does not know: exit 3 with the service error', async () => {
      const result = await run(
        ['validate', '--amp-workspace-id', workspaceId, '--region', region, '--amp-endpoint-url', amp.url],
        { AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN', AWS_SECRET_ACCESS_KEY: 'nope' },
      );
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('AMP refused the credentials (InvalidSignatureException)');
    });

    it('no region: exit 2', async () => {
      const result = await run(['validate', '--amp-workspace-id', workspaceId], CREDENTIALS);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('needs --region');
    });
  });
});
