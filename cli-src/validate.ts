/**
 * `observed-lambda validate`: proves that metrics reach a Prometheus backend
 * and come back from its query API with the right values.
 *
 * Without an expected-values file it sends a known set of metrics under a
 * unique run label through the extension's own translation and remote write
 * exporter, then queries each resulting series. With one (--expected) it only
 * queries what a function was expected to have sent. Queries are repeated
 * until every row passes or --wait runs out (AMP makes samples queryable
 * after a short ingestion delay), and the last round is printed as a table.
 */

import type { AwsCredentials } from '../extension-src/aws/credentials.js';
import { RequestSigner } from '../extension-src/aws/sigv4.js';
import { parseRemoteWriteOptions } from '../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../extension-src/exporters/prometheus-remote-write/exporter.js';
import { createLogger } from '../extension-src/self-telemetry/log.js';
import { describeWorkspace } from './amp.js';
import { readExpectedValues, UsageError } from './expected-file.js';
import { type ExpectedSeries, knownExpectations, knownMetricsRequest, newRunId } from './known-set.js';
import { BackendError, PrometheusQueryClient, QueryError } from './query.js';
import { formatTable, type Row } from './table.js';

export interface ValidateOptions {
  readonly prometheusUrl?: string;
  readonly ampWorkspaceId?: string;
  readonly region?: string;
  /** The AMP control-plane endpoint (VPC endpoints; tests). */
  readonly ampEndpointUrl?: string;
  /** Where to send the known metrics (default: the backend's remote write path). */
  readonly remoteWriteUrl?: string;
  /** Request headers for the backend's remote write and query API (a tenant header for Cortex). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly expectedFile?: string;
  readonly runId?: string;
  readonly waitSeconds: number;
  /** Relative tolerance for float comparison. */
  readonly tolerance: number;
}

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

export const EXIT = { pass: 0, mismatch: 1, usage: 2, backend: 3 } as const;

interface Backend {
  readonly label: string;
  readonly query: PrometheusQueryClient;
  readonly remoteWriteUrl: URL;
  readonly sign?: { region: string; credentials: AwsCredentials };
  readonly headers?: Readonly<Record<string, string>>;
}

function parseUrl(raw: string, flag: string): URL {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new UsageError(`${flag} ${raw} is not an http(s) URL`);
}

async function resolveBackend(options: ValidateOptions, io: Io): Promise<Backend> {
  if (options.prometheusUrl && options.ampWorkspaceId) {
    throw new UsageError('give either --prometheus-url or --amp-workspace-id, not both');
  }
  if (options.prometheusUrl) {
    const base = parseUrl(options.prometheusUrl, '--prometheus-url');
    const root = base.href.endsWith('/') ? base.href : `${base.href}/`;
    return {
      label: `Prometheus at ${base.origin}`,
      query: new PrometheusQueryClient(new URL(root), undefined, undefined, options.headers),
      headers: options.headers,
      remoteWriteUrl: options.remoteWriteUrl
        ? parseUrl(options.remoteWriteUrl, '--remote-write-url')
        : new URL('api/v1/write', root),
    };
  }
  if (options.ampWorkspaceId) {
    const region = options.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
    if (!region) throw new UsageError('--amp-workspace-id needs --region (or AWS_REGION)');
    const ws = await describeWorkspace(options.ampWorkspaceId, region, options.ampEndpointUrl);
    const credentials = () => ws.credentials;
    return {
      label: `AMP workspace ${ws.workspaceId} (${region})`,
      query: new PrometheusQueryClient(ws.prometheusEndpoint, new RequestSigner('aps', region, credentials)),
      remoteWriteUrl: options.remoteWriteUrl
        ? parseUrl(options.remoteWriteUrl, '--remote-write-url')
        : ws.remoteWriteUrl,
      sign: { region, credentials: ws.credentials },
    };
  }
  throw new UsageError('say where to check: --prometheus-url <url> or --amp-workspace-id <id> --region <region>');
}

/** Sends the known metrics through the extension's remote write exporter; throws when they did not all arrive. */
async function sendKnownMetrics(backend: Backend, runId: string, io: Io): Promise<void> {
  const env: Record<string, string> = {
    OBSERVED_REMOTE_WRITE_URL: backend.remoteWriteUrl.href,
    OBSERVED_REMOTE_WRITE_SIGV4: backend.sign ? 'true' : 'false',
    OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
    OBSERVED_PROMETHEUS_SCOPE_LABELS: 'false',
  };
  const headers = Object.entries(backend.headers ?? {});
  if (headers.length > 0)
    env.OBSERVED_REMOTE_WRITE_HEADERS = headers.map(([name, value]) => `${name}=${value}`).join(',');
  if (backend.sign) {
    env.AWS_REGION = backend.sign.region;
    env.AWS_ACCESS_KEY_ID = backend.sign.credentials.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = backend.sign.credentials.secretAccessKey;
    if (backend.sign.credentials.sessionToken) env.AWS_SESSION_TOKEN = backend.sign.credentials.sessionToken;
  }
  const parsed = parseRemoteWriteOptions(env);
  if (!parsed.options) throw new UsageError(parsed.warnings.join('; '));
  const problems: string[] = [];
  const exporter = new RemoteWriteExporter(
    { ...parsed.options, timeoutMs: 10_000 },
    { env, log: createLogger('debug', (line) => problems.push(line)), retry: { initialMs: 200 } },
  );
  const { bytes, items } = knownMetricsRequest(runId, Date.now());
  exporter.enqueue({ signal: 'metrics', bytes, items });
  await exporter.flush(Date.now() + 20_000);
  const stats = exporter.stats();
  const dropped = Object.values(stats.samplesDropped).reduce((a, b) => a + b, 0);
  if (stats.samplesSent !== stats.samplesQueued || dropped > 0 || exporter.pendingItems() > 0) {
    throw new BackendError(
      `remote write to ${backend.remoteWriteUrl.href} did not deliver the known metrics (${stats.samplesSent} of ${
        stats.samplesQueued
      } samples sent): ${problems.join('; ') || 'no reason given'}`,
    );
  }
  io.out(
    `sent ${stats.samplesSent} samples (counter, gauge, histogram) in ${stats.requestsSent} remote write request(s) to ${backend.remoteWriteUrl.href}`,
  );
}

function matches(actual: number, expected: number, tolerance: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  if (!Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

async function check(
  backend: Backend,
  series: readonly ExpectedSeries[],
  tolerance: number,
): Promise<{ rows: Row[]; fatal?: string }> {
  const time = Date.now() / 1000;
  const rows: Row[] = [];
  for (const s of series) {
    try {
      const outcome = await backend.query.query(s.query, time);
      if (outcome.kind === 'value') {
        rows.push({ ...s, actual: outcome.value, pass: matches(outcome.value, s.expected, tolerance) });
      } else if (outcome.kind === 'none') {
        rows.push({ ...s, actual: 'no data', pass: false });
      } else if (outcome.kind === 'many') {
        rows.push({ ...s, actual: `${outcome.count} series (narrow the selector)`, pass: false });
      } else {
        rows.push({ ...s, actual: 'a native histogram (use histogram_count/histogram_sum)', pass: false });
      }
    } catch (error) {
      if (error instanceof QueryError) rows.push({ ...s, actual: `query error: ${error.message}`, pass: false });
      else throw error;
    }
  }
  return { rows };
}

export async function validate(options: ValidateOptions, io: Io): Promise<number> {
  try {
    const series = options.expectedFile ? readExpectedValues(options.expectedFile) : undefined;
    const backend = await resolveBackend(options, io);
    io.out(`backend: ${backend.label}`);
    // Reachability and permissions first, so a dead backend is not reported as missing data.
    await backend.query.query('vector(1)', Date.now() / 1000);
    let expected: readonly ExpectedSeries[];
    if (series) {
      expected = series;
      io.out(`checking ${series.length} series from ${options.expectedFile}`);
    } else {
      const runId = options.runId ?? newRunId();
      io.out(`run: ${runId}`);
      await sendKnownMetrics(backend, runId, io);
      expected = knownExpectations(runId);
    }
    const until = Date.now() + options.waitSeconds * 1000;
    let rows: Row[];
    for (;;) {
      ({ rows } = await check(backend, expected, options.tolerance));
      if (rows.every((r) => r.pass) || Date.now() >= until) break;
      await new Promise((r) => setTimeout(r, Math.min(2_000, Math.max(0, until - Date.now()))));
    }
    io.out(formatTable(rows));
    const failed = rows.filter((r) => !r.pass).length;
    if (failed > 0) {
      io.err(`FAIL: ${failed} of ${rows.length} series do not hold the expected value`);
      return EXIT.mismatch;
    }
    io.out(`PASS: all ${rows.length} series hold the expected values`);
    return EXIT.pass;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof BackendError) {
      io.err(`error: ${error.message}`);
      return EXIT.backend;
    }
    throw error;
  }
}
