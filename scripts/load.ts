/**
 * Load: many Lambda environments at once, each the real extension in the
 * sandbox writing into a real Prometheus, plus a generator that replays the
 * extension's remote write traffic for the rest of the functions: one writer
 * per simulated function, one request per invocation (as the extension's
 * end-of-invocation flush makes them), the same series shapes (a counter per
 * route and status, a gauge, a classic histogram with the FaaS duration
 * buckets), encoded by the extension's own remote write encoder, in order per
 * writer. At the end PromQL counts every sample of the run in Prometheus and
 * compares it with what was sent; the extension's counters are not used.
 *
 * The backend is a real Prometheus, or with `--backend cortex` real Cortex
 * (the engine behind Amazon Managed Service for Prometheus) with AMP's quotas,
 * written as one tenant; `--quota-rate N` lowers that tenant's ingestion rate
 * quota (and its burst, in AMP's proportion) to see what happens above it.
 *
 *   npm run load -- [--functions 1000] [--rate 70000] [--seconds 60] [--envs auto|N]
 *                   [--backend prometheus|cortex] [--quota-rate N]
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import {
  compress,
  LabelBlockCache,
  writeMetadata,
  writeSeries,
} from '../extension-src/exporters/prometheus-remote-write/encode.js';
import type { Label } from '../extension-src/translate/labels.js';
import type { MetricFamily } from '../extension-src/translate/series.js';
import { WireWriter } from '../extension-src/wire/writer.js';
import type { LambdaEnvironment } from '../sandbox/index.js';
import { countedDropped, exitTotals, sleep, startEmitter } from '../test/reliability/harness.js';
import { AMP_QUOTAS, CortexServer, type TenantLimits } from '../test/support/cortex.js';
import { type InstantVector, PrometheusServer } from '../test/support/prometheus.js';

/** Where the load goes: a remote write URL (with headers, e.g. a tenant), and a query API to count what arrived. */
export interface LoadBackend {
  readonly remoteWriteUrl: string;
  readonly headers?: Readonly<Record<string, string>>;
  query(promql: string): Promise<InstantVector[]>;
}

export interface LoadOptions {
  /** Concurrent functions in all: sandbox environments plus simulated writers. */
  readonly functions: number;
  /** Target samples per second, across all functions. */
  readonly rate: number;
  readonly seconds: number;
  /** Sandbox environments (real extension); the rest are simulated. */
  readonly envs: number;
  /** Samples per invocation of a sandboxed function. */
  readonly envSeries?: number;
  readonly layerDir?: string;
  readonly log?: (line: string) => void;
}

export interface LoadReport {
  readonly run: string;
  readonly functions: number;
  readonly envs: number;
  readonly simulated: number;
  readonly seconds: number;
  readonly sentSamples: number;
  readonly arrivedSamples: number;
  readonly failedRequests: number;
  /** Samples in the simulated writers' failed requests: a backend may have stored some before failing (5xx). */
  readonly failedSamples: number;
  /** Failed requests of the simulated writers by answer (status and the start of the body) or error. */
  readonly failures: Record<string, number>;
  readonly requests: number;
  readonly samplesPerSecond: number;
  /** Lowest one-second rate after the first second. */
  readonly minSecondRate: number;
  readonly envInvocations: number;
  readonly envFailures: number;
  /** What the sandboxed extensions counted as dropped, by reason (their exit totals), and their log lines about it. */
  readonly envDropped: Record<string, number>;
  readonly envDropLines: string[];
  readonly envP50Ms: number;
  readonly envP99Ms: number;
  readonly startEnvsMs: number;
}

/** 28 routes x 2 statuses + gauge + 12 buckets + sum + count = 71 series per function. */
const ROUTES = Array.from({ length: 28 }, (_, i) => `/api/v1/resource-${i}`);
const STATUSES = ['200', '500'];
const BOUNDS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];

interface SimSeries {
  readonly key: string;
  readonly labels: Label[];
  readonly family: MetricFamily;
}

/** The series one simulated function writes per invocation. */
function seriesOf(run: string, fn: number): SimSeries[] {
  const job = `load-fn-${fn}`;
  const instance = `2026/11/23/[$LATEST]${fn.toString(16).padStart(8, '0')}`;
  const base = (name: string, extra: Label[] = []): Label[] =>
    [
      { name: '__name__', value: name },
      ...extra,
      { name: 'instance', value: instance },
      { name: 'job', value: job },
      { name: 'run', value: run },
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const counter: MetricFamily = { name: 'http_server_requests_total', type: 'counter', help: '', unit: '' };
  const gauge: MetricFamily = { name: 'process_heap_bytes', type: 'gauge', help: '', unit: 'bytes' };
  const histogram: MetricFamily = {
    name: 'faas_invoke_duration_seconds',
    type: 'histogram',
    help: '',
    unit: 'seconds',
  };
  const out: SimSeries[] = [];
  for (const route of ROUTES)
    for (const status of STATUSES) {
      const labels = base(counter.name, [
        { name: 'http_route', value: route },
        { name: 'http_status_code', value: status },
      ]);
      out.push({ key: `${fn}:c:${route}:${status}`, labels, family: counter });
    }
  out.push({ key: `${fn}:g`, labels: base(gauge.name), family: gauge });
  for (const le of BOUNDS) {
    out.push({
      key: `${fn}:b:${le}`,
      labels: base('faas_invoke_duration_seconds_bucket', [{ name: 'le', value: le }]),
      family: histogram,
    });
  }
  out.push({ key: `${fn}:s`, labels: base('faas_invoke_duration_seconds_sum'), family: histogram });
  out.push({ key: `${fn}:n`, labels: base('faas_invoke_duration_seconds_count'), family: histogram });
  return out;
}

const SERIES_PER_FUNCTION = ROUTES.length * STATUSES.length + 1 + BOUNDS.length + 2;

/** One simulated function: a request per invocation, sent after the previous one was answered. */
class SimulatedFunction {
  private readonly series: SimSeries[];
  private readonly writer = new WireWriter();
  private readonly cache = new LabelBlockCache(1_000);
  private invocations = 0;
  private lastMs = 0;

  constructor(
    run: string,
    fn: number,
    private readonly url: URL,
    private readonly agent: Agent,
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {
    this.series = seriesOf(run, fn);
  }

  get samplesPerInvocation(): number {
    return this.series.length;
  }

  /** Encodes and sends one invocation's request; resolves with its sample count, or throws. */
  async invoke(): Promise<number> {
    this.invocations++;
    // One new timestamp per invocation, strictly increasing per writer (remote write refuses reordering).
    const now = Math.max(Date.now(), this.lastMs + 1);
    this.lastMs = now;
    const w = this.writer;
    w.reset();
    const n = this.invocations;
    for (const s of this.series) {
      const value = s.family.type === 'gauge' ? 50_000_000 + (n % 1000) : n;
      writeSeries(w, { key: s.key, labels: s.labels, points: [{ timestampMs: now, value }] }, this.cache);
    }
    const families = new Set<MetricFamily>(this.series.map((s) => s.family));
    for (const f of families) writeMetadata(w, f);
    const body = compress(w.bytes());
    const { status, text } = await post(this.url, body, this.agent, this.headers);
    if (status < 200 || status >= 300) throw new Error(`HTTP ${status} ${text.slice(0, 160)}`);
    return this.series.length;
  }
}

function post(
  url: URL,
  body: Uint8Array,
  agent: Agent,
  extraHeaders: Readonly<Record<string, string>>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-write-version': '0.1.0',
          'content-length': String(body.byteLength),
          ...extraHeaders,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const METRIC_NAMES = [
  'reliability_sample',
  'http_server_requests_total',
  'process_heap_bytes',
  'faas_invoke_duration_seconds_bucket',
  'faas_invoke_duration_seconds_sum',
  'faas_invoke_duration_seconds_count',
];

/** Samples of a run stored in Prometheus, by PromQL (per metric name: count_over_time drops the name). */
export async function countSamples(prom: LoadBackend, run: string): Promise<number> {
  let total = 0;
  for (const name of METRIC_NAMES) {
    const result = await prom.query(`sum(count_over_time(${name}{run="${run}"}[1h]))`);
    total += result.length === 0 ? 0 : Number(result[0].value?.[1] ?? 0);
  }
  return total;
}

export async function runLoad(prom: LoadBackend, options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => {});
  const run = `load-${Date.now().toString(36)}`;
  const envSeries = options.envSeries ?? SERIES_PER_FUNCTION;
  const simulatedCount = Math.max(0, options.functions - options.envs);
  // Each function invokes at the same rate: rate / functions / samples per invocation.
  const invokesPerSecond = options.rate / options.functions / SERIES_PER_FUNCTION;
  const intervalMs = 1000 / invokesPerSecond;

  const started = Date.now();
  const envs: LambdaEnvironment[] = [];
  if (options.envs > 0) {
    if (!options.layerDir) throw new Error('sandbox environments need layerDir');
    // Started a few at a time: init of many at once on two cores would hit the 10 s init limit.
    for (let i = 0; i < options.envs; i += 4) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(4, options.envs - i) }, (_, k) =>
          startEmitter(prom.remoteWriteUrl, {
            layerDir: options.layerDir as string,
            extraEnv: headerSetting(prom.headers),
            functionName: `load-env-${i + k}`,
            timeoutMs: 10_000,
          }),
        ),
      );
      envs.push(...batch);
      for (const env of batch) await env.invoke({ run, seq: 0, series: 0 });
    }
  }
  const startEnvsMs = Date.now() - started;
  log(`${envs.length} sandbox environments up in ${startEnvsMs} ms`);

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL(prom.remoteWriteUrl);
  const sims = Array.from(
    { length: simulatedCount },
    (_, i) => new SimulatedFunction(run, i, url, agent, prom.headers),
  );
  let sent = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  let failedSamples = 0;
  let requests = 0;
  const perSecond = new Map<number, number>();
  const note = (samples: number) => {
    sent += samples;
    const second = Math.floor((Date.now() - t0) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + samples);
  };
  const t0 = Date.now();
  const until = t0 + options.seconds * 1000;

  const simLoops = sims.map(async (sim, i) => {
    // Spread the writers' phases over one interval.
    let next = t0 + (i / Math.max(1, sims.length)) * intervalMs;
    while (next < until && Date.now() < until) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      requests++;
      try {
        note(await sim.invoke());
      } catch (error) {
        failed++;
        failedSamples += sim.samplesPerInvocation;
        const reason = (error as Error).message.replace(/[\d.]+/g, 'N');
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
      next += intervalMs;
    }
  });
  let envInvocations = 0;
  let envFailures = 0;
  const envDurations: number[] = [];
  const envLoops = envs.map(async (env, i) => {
    let seq = 0;
    let next = t0 + (i / Math.max(1, envs.length)) * intervalMs;
    while (next < until && Date.now() < until) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      const r = await env.invoke({ run, seq: ++seq, series: envSeries, job: env.functionName });
      envInvocations++;
      envDurations.push(r.durationMs);
      if (r.status === 'success') note(envSeries);
      else envFailures++;
      next = Math.max(next + intervalMs, Date.now());
    }
  });
  await Promise.all([...simLoops, ...envLoops]);
  const seconds = (Date.now() - t0) / 1000;
  // The sandboxed extensions flush what they hold at SHUTDOWN.
  await Promise.all(envs.map((e) => e.shutdown().catch(() => undefined)));
  agent.destroy();
  const envDropped: Record<string, number> = {};
  const envDropLines = new Set<string>();
  for (const env of envs) {
    const totals = exitTotals(env);
    if (totals) {
      for (const [reason, n] of Object.entries(countedDropped(totals).byReason)) {
        envDropped[reason] = (envDropped[reason] ?? 0) + n;
      }
    }
    for (const line of env.stdout('observed-lambda').split('\n')) {
      if (/dropped \d+ sample|requests are cut/.test(line)) envDropLines.add(line.replace(/\d+/g, 'N'));
    }
  }

  const arrivedSamples = await countSamples(prom, run);
  const rates = [...perSecond.entries()].filter(([s]) => s >= 1 && s < Math.floor(seconds)).map(([, n]) => n);
  return {
    run,
    functions: options.functions,
    envs: envs.length,
    simulated: sims.length,
    seconds,
    sentSamples: sent,
    arrivedSamples,
    failedRequests: failed + envFailures,
    failedSamples,
    failures,
    requests: requests + envInvocations,
    samplesPerSecond: sent / seconds,
    minSecondRate: rates.length ? Math.min(...rates) : sent / seconds,
    envInvocations,
    envFailures,
    envDropped,
    envDropLines: [...envDropLines],
    envP50Ms: percentile(envDurations, 50),
    envP99Ms: percentile(envDurations, 99),
    startEnvsMs,
  };
}

/** The extension's setting for the backend's headers (OBSERVED_REMOTE_WRITE_HEADERS). */
function headerSetting(headers: Readonly<Record<string, string>> = {}): Record<string, string> {
  const pairs = Object.entries(headers).map(([name, value]) => `${name}=${value}`);
  return pairs.length > 0 ? { OBSERVED_REMOTE_WRITE_HEADERS: pairs.join(',') } : {};
}

const LOAD_TENANT = 'load';

/** Starts the backend named on the command line; `stop` ends it. */
async function startBackend(
  name: string,
  quotaRate: number | undefined,
): Promise<{ backend: LoadBackend; stop: () => Promise<void> }> {
  if (name === 'cortex') {
    const burstPerRate = AMP_QUOTAS.ingestion_burst_size / AMP_QUOTAS.ingestion_rate;
    const tenants: Record<string, TenantLimits> =
      quotaRate === undefined
        ? {}
        : {
            [LOAD_TENANT]: { ingestion_rate: quotaRate, ingestion_burst_size: Math.round(quotaRate * burstPerRate) },
          };
    const cortex = await CortexServer.start({ tenants });
    if (!cortex) throw new Error('cortex is not built: bash scripts/install/cortex.sh');
    const backend: LoadBackend = {
      remoteWriteUrl: cortex.remoteWriteUrl,
      headers: { 'X-Scope-OrgID': LOAD_TENANT },
      query: (promql) => cortex.query(LOAD_TENANT, promql),
    };
    return { backend, stop: () => cortex.stop() };
  }
  if (name !== 'prometheus') throw new Error(`--backend ${name}: accepted values: prometheus, cortex`);
  const prom = await PrometheusServer.start();
  if (!prom) throw new Error('prometheus is not installed');
  return { backend: prom, stop: () => prom.stop() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      functions: { type: 'string' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      envs: { type: 'string' },
      backend: { type: 'string' },
      'quota-rate': { type: 'string' },
    },
  });
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildLayer } = await import('./build-extension.js');
  const root = mkdtempSync(join(tmpdir(), 'observed-load-'));
  const quotaRate = values['quota-rate'] === undefined ? undefined : Number(values['quota-rate']);
  const { backend: prom, stop } = await startBackend(values.backend ?? 'prometheus', quotaRate);
  try {
    const { layerDir } = await buildLayer(root);
    const report = await runLoad(prom, {
      functions: Number(values.functions ?? 1000),
      rate: Number(values.rate ?? 70_000),
      seconds: Number(values.seconds ?? 60),
      envs: Number(values.envs ?? 16),
      layerDir,
      log: (line) => console.log(line),
    });
    console.log(JSON.stringify(report, null, 2));
    // A failed request's samples may have been stored in part: only samples beyond that are unexplained.
    const lost = Math.max(0, report.sentSamples - report.arrivedSamples);
    const extra = report.arrivedSamples - report.sentSamples;
    if (extra > report.failedSamples) console.log(`arrived ${extra} more samples than were sent or failed`);
    console.log(
      `${report.functions} functions (${report.envs} sandboxed, ${report.simulated} simulated), ${report.samplesPerSecond.toFixed(0)} samples/s over ${report.seconds.toFixed(1)} s (lowest second ${report.minSecondRate}), sent ${report.sentSamples}, arrived ${report.arrivedSamples} (PromQL), lost ${lost}, failed requests ${report.failedRequests} (${report.failedSamples} samples, of which ${Math.max(0, extra)} stored anyway)`,
    );
    process.exitCode = lost === 0 && report.failedRequests === 0 ? 0 : 1;
  } finally {
    await stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
