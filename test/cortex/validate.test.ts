/**
 * `observed-lambda validate`, the built command line, against real Cortex as
 * against Prometheus: the known metrics sent through the remote write exporter
 * to one tenant (--header X-Scope-OrgID) are found with the right values
 * through Cortex's query API; another tenant does not see them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.js';
import { CortexServer, cortexBinary } from '../support/cortex.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe.skipIf(!cortexBinary())('observed-lambda validate against Cortex', () => {
  let cli: string;
  let cortex: CortexServer;
  let dir: string;

  beforeAll(async () => {
    [cli, cortex] = await Promise.all([buildCli(), CortexServer.start() as Promise<CortexServer>]);
    dir = mkdtempSync(join(tmpdir(), 'observed-validate-cortex-'));
  }, 120_000);

  afterAll(async () => {
    await cortex?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function run(args: string[]): Promise<CliResult> {
    const env = { PATH: process.env.PATH ?? '', HOME: dir, AWS_EC2_METADATA_DISABLED: 'true' };
    return new Promise((resolve) => {
      execFile(process.execPath, [cli, ...args], { env, timeout: 50_000 }, (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? -1) : 0;
        resolve({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      });
    });
  }

  const backend = (tenant: string) => [
    '--prometheus-url',
    `${cortex.url}/prometheus`,
    '--remote-write-url',
    cortex.remoteWriteUrl,
    '--header',
    `X-Scope-OrgID=${tenant}`,
  ];

  it('sends the known metrics to a tenant and finds every value: exit 0; another tenant finds none: exit 1', async () => {
    const result = await run(['validate', ...backend('team-a'), '--run-id', 'cortex-run']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const rows = result.stdout.split('\n').filter((l) => /^(PASS|FAIL)\s/.test(l));
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.startsWith('PASS'))).toBe(true);
    expect(await cortex.value('team-a', 'observed_validate_requests_total{observed_validate_run="cortex-run"}')).toBe(
      42,
    );

    const file = join(dir, 'expected.json');
    writeFileSync(file, JSON.stringify({ 'observed_validate_requests_total{observed_validate_run="cortex-run"}': 42 }));
    const other = await run(['validate', ...backend('team-b'), '--expected', file, '--wait', '1']);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/^FAIL\s+observed_validate_requests_total/m);
  });
});
