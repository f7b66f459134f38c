/**
 * Benchmark: CPU share and RSS of the extension process (the built layer, in
 * the sandbox) while a busy function sends it OTLP metrics at 1k, 5k and 10k
 * data points per second, exported by Prometheus remote write to a real
 * Prometheus; beside it, with the exact same request stream, the extension
 * with no exporter (the floor: HTTP receiving and the Lambda lifecycle) and
 * the OpenTelemetry Collector (bench/peers/otelcol.ts; rows skipped when it
 * is not built). Aim: 10k data points per second under 10% of a core and
 * under 100 MB RSS.
 *
 * The function's invocations last 500 ms each, back to back; during them
 * this process posts OTLP/HTTP protobuf metrics requests to the measured
 * receiver, paced to the target rate, in order on one keep-alive connection,
 * as a function flushing its SDK would. Each request carries 50 cumulative
 * series (30 counter series, 20 histogram series with 10 bounds) encoded with
 * the project's OTLP codec (official protos). CPU is utime+stime of the
 * measured process and its descendants (/proc) over wall time, also per
 * 1,000 samples sent and as a ratio to the remote write row; RSS is VmRSS,
 * sampled every 200 ms. Prometheus is then asked how many samples arrived.
 *
 * Run alone: `npx tsx bench/run.ts extension-resources`. For experiments,
 * BENCH_RATES (e.g. `10000`) picks the rates and BENCH_FUNCTION_ENV (JSON)
 * adds function environment variables, which the extension inherits (e.g.
 * `{"NODE_OPTIONS":"--require /path/to/profiler.cjs"}`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRequest } from '../../extension-src/otlp/proto.js';
import type { ExportMetricsServiceRequest, KeyValue, Metric } from '../../extension-src/otlp/types.js';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { PrometheusServer } from '../../test/support/prometheus.js';
import { CollectorProcess, collectorMissing, collectorVersion } from '../peers/otelcol.js';
import { treeUsage } from '../peers/proc-usage.js';

export const title = 'Extension CPU and memory under metric load';

const COUNTER_METRICS = 3;
const HISTOGRAM_METRICS = 2;
const ATTRIBUTE_SETS = 10;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
export const POINTS_PER_REQUEST = (COUNTER_METRICS + HISTOGRAM_METRICS) * ATTRIBUTE_SETS;
/** Prometheus samples per request: one per counter point; buckets + +Inf + sum + count per histogram point. */
export const SAMPLES_PER_REQUEST = ATTRIBUTE_SETS * (COUNTER_METRICS + HISTOGRAM_METRICS * (BOUNDS.length + 3));
const INVOCATION_MS = 500;

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** The n-th cumulative request of one function (counters count requests, so their last value is n). */
function metricsRequest(service: string, n: number, timeMs: number, startMs: number): Uint8Array {
  const time = (BigInt(timeMs) * 1_000_000n).toString() as never;
  const start = (BigInt(startMs) * 1_000_000n).toString() as never;
  const attrs = (i: number) => [str('http.route', `/api/items/${i}`), str('http.request.method', 'GET')];
  const metrics: Metric[] = [];
  for (let m = 0; m < COUNTER_METRICS; m++) {
    metrics.push({
      name: `bench.requests.${m}`,
      unit: '{request}',
      sum: {
        isMonotonic: true,
        aggregationTemporality: 2,
        dataPoints: Array.from({ length: ATTRIBUTE_SETS }, (_, i) => ({
          attributes: attrs(i),
          startTimeUnixNano: start,
          timeUnixNano: time,
          asInt: n,
        })),
      },
    });
  }
  for (let m = 0; m < HISTOGRAM_METRICS; m++) {
    metrics.push({
      name: `bench.duration.${m}`,
      unit: 's',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: Array.from({ length: ATTRIBUTE_SETS }, (_, i) => ({
          attributes: attrs(i),
          startTimeUnixNano: start,
          timeUnixNano: time,
          count: 4 * n,
          sum: 0.37 * n,
          explicitBounds: BOUNDS,
          bucketCounts: [n, n, 0, n, 0, 0, n, 0, 0, 0, 0],
        })),
      },
    } as Metric);
  }
  const req: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', service)] },
        scopeMetrics: [{ scope: { name: 'bench' }, metrics }],
      },
    ],
  };
  return encodeRequest('metrics', req as never);
}

function post(agent: Agent, port: number, body: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/metrics',
        method: 'POST',
        agent,
        timeout: 10_000,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/**
 * The remote write exporter's drop counters by reason, from the totals line the extension logs as it exits
 * ("none" when nothing was dropped), so a shortfall in Prometheus can be told apart from a counted drop.
 */
export function droppedByReason(extensionStdout: string): string {
  const line = extensionStdout.split('\n').find((l) => l.includes(' totals {'));
  if (!line) return 'no totals line';
  const totals = JSON.parse(line.slice(line.indexOf(' totals ') + 8)) as {
    pipelineDropped?: Record<string, Record<string, number>>;
    exporters?: { exporter: string; signal: string; unit: string; dropped: Record<string, number> }[];
  };
  const parts: string[] = [];
  for (const [signal, reasons] of Object.entries(totals.pipelineDropped ?? {})) {
    for (const [reason, n] of Object.entries(reasons)) if (n > 0) parts.push(`pipeline ${signal} ${reason} ${n}`);
  }
  for (const row of totals.exporters ?? []) {
    for (const [reason, n] of Object.entries(row.dropped)) {
      if (n > 0) parts.push(`${row.exporter} ${row.signal} ${reason} ${n} ${row.unit}`);
    }
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}

const HANDLER = `exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 0));
  return { ok: true };
};
`;

type Kind = 'remote-write' | 'receiver-only' | 'collector';

/** The implementations, in the order each rate measures them. */
const KINDS: Kind[] = ['remote-write', 'receiver-only', 'collector'];

function label(kind: Kind): string {
  switch (kind) {
    case 'remote-write':
      return 'observed-lambda (remote write)';
    case 'receiver-only':
      return 'observed-lambda, receiver only (no exporter)';
    case 'collector': {
      const version = collectorMissing() ? '0.150' : collectorVersion().split('.').slice(0, 2).join('.');
      return `OpenTelemetry Collector ${version} (otlp receiver -> prometheusremotewrite exporter)`;
    }
  }
}

interface Setup {
  layerDir: string;
  codeDir: string;
  prometheus: PrometheusServer;
}

/** The function's environment: the experiment knob, then what the row needs. */
function functionEnv(kind: Kind, prometheus: PrometheusServer): Record<string, string> {
  const env: Record<string, string> = {
    OBSERVED_REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
    ...JSON.parse(process.env.BENCH_FUNCTION_ENV ?? '{}'),
  };
  if (kind !== 'remote-write') delete env.OBSERVED_REMOTE_WRITE_URL;
  return env;
}

/**
 * The Collector's own drop counters (data points), read before it stops, with its warning and error log lines, as
 * the extension's exit totals are for its rows.
 */
function collectorDrops(own: Record<string, number>, stderr: string): string {
  const parts: string[] = [];
  for (const name of [
    'otelcol_receiver_refused_metric_points_total',
    'otelcol_receiver_failed_metric_points_total',
    'otelcol_exporter_enqueue_failed_metric_points_total',
    'otelcol_exporter_send_failed_metric_points_total',
  ]) {
    if ((own[name] ?? 0) > 0) parts.push(`${name.replace(/^otelcol_|_total$/g, '')} ${own[name]} data points`);
  }
  const logged = stderr.split('\n').filter((l) => /\b(warn|error)\b/i.test(l)).length;
  if (logged > 0) parts.push(`${logged} warn/error log lines`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** Samples of the run's series stored in Prometheus, waiting (up to 5 s) for the last writes. */
export async function arrivedSamples(
  prometheus: PrometheusServer,
  service: string,
  sentSamples: number,
): Promise<number> {
  // count_over_time drops the metric name, so each stored name is counted on its own.
  const names = [
    ...Array.from({ length: COUNTER_METRICS }, (_, m) => `bench_requests_${m}_total`),
    ...Array.from({ length: HISTOGRAM_METRICS }, (_, m) =>
      ['bucket', 'sum', 'count'].map((part) => `bench_duration_${m}_seconds_${part}`),
    ).flat(),
  ];
  let arrived = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    arrived = 0;
    for (const name of names) {
      const result = await prometheus.query(`sum(count_over_time(${name}{job="${service}"}[10m]))`);
      arrived += Number(result[0]?.value?.[1] ?? 0);
    }
    if (arrived >= sentSamples) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return arrived;
}

/**
 * Posts the request stream to `port` for `seconds` while the function runs back-to-back invocations, measuring the
 * process tree at `pid` from just before the first request until the replies are in and the last invocation ended.
 */
export async function sendLoad(
  env: LambdaEnvironment,
  port: number,
  pid: number,
  service: string,
  rate: number,
  seconds: number,
) {
  // One connection, as an SDK's metric reader exports one request at a time, in order.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const requestsPerSecond = rate / POINTS_PER_REQUEST;
    const intervalMs = 1000 / requestsPerSecond;
    const startMs = Date.now();
    const before = treeUsage(pid);
    let peakRss = before.rssBytes;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, treeUsage(pid).rssBytes);
    }, 200);
    let sent = 0;
    let failed = 0;
    const inFlight = new Set<Promise<void>>();
    const endAt = startMs + seconds * 1000;
    // Busy function: back-to-back invocations while the sender runs.
    let sending = true;
    const invoking = (async () => {
      while (sending) await env.invoke({ ms: INVOCATION_MS });
    })();
    // Paced by the schedule, not by replies: a slow receiver makes requests queue, not the rate drop.
    // A late timer sends several requests in the same millisecond; an SDK's exports are never that close, and
    // Prometheus keeps one sample per series and timestamp, so each request gets a later time than the last.
    let lastTimeMs = 0;
    for (let n = 1; Date.now() < endAt; n++) {
      const due = startMs + n * intervalMs;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      lastTimeMs = Math.max(Date.now(), lastTimeMs + 1);
      const body = metricsRequest(service, n, lastTimeMs, startMs - 1000);
      sent++;
      const p = post(agent, port, body).then((status) => {
        if (status < 200 || status >= 300) failed++;
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    const sendEnd = Date.now();
    await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 15_000))]);
    sending = false;
    await invoking;
    const after = treeUsage(pid);
    const wallSeconds = (Date.now() - startMs) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, after.rssBytes);
    return { sent, failed, sendSeconds: (sendEnd - startMs) / 1000, wallSeconds, before, after, peakRss };
  } finally {
    agent.destroy();
  }
}

async function measureRow(kind: Kind, setup: Setup, rate: number, seconds: number) {
  const { prometheus } = setup;
  const service = `bench-${kind}-${rate}`;
  // The Collector row keeps the same busy function (without the layer), so the machine is as loaded as in the others.
  const env = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: setup.codeDir,
    layers: kind === 'collector' ? [] : [setup.layerDir],
    env: functionEnv(kind, prometheus),
    memorySizeMb: 1024,
    timeoutMs: 10_000,
  });
  let collector: CollectorProcess | undefined;
  try {
    await env.invoke({ ms: 50 }); // warm-up: first invocation's code paths
    let pid: number | undefined;
    let port: number;
    if (kind === 'collector') {
      // Its own metrics stay on (level normal), as with the Lambda layer's default config, for the drop counters.
      collector = await CollectorProcess.start({ remoteWriteUrl: prometheus.remoteWriteUrl, ownMetrics: true });
      pid = collector.pid;
      port = collector.otlpPort;
    } else {
      pid = env.processInfo.find((p) => p.kind === 'extension' && p.running)?.pid;
      if (!pid) throw new Error(`no extension process: ${JSON.stringify(env.processInfo)}`);
      port = env.receiverPort;
    }
    const load = await sendLoad(env, port, pid, service, rate, seconds);
    let dropped: string;
    if (collector) {
      // Its sending queue exports after the reply: wait until it has handed on everything it accepted.
      const until = Date.now() + 15_000;
      let own = await collector.ownMetrics();
      const settled = (m: Record<string, number>) =>
        (m.otelcol_exporter_sent_metric_points_total ?? 0) +
          (m.otelcol_exporter_send_failed_metric_points_total ?? 0) +
          (m.otelcol_exporter_enqueue_failed_metric_points_total ?? 0) >=
        (m.otelcol_receiver_accepted_metric_points_total ?? 0);
      while (!settled(own) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        own = await collector.ownMetrics();
      }
      await collector.stop();
      dropped = collectorDrops(own, collector.stderr());
      collector = undefined;
      await env.shutdown({ reason: 'spindown' });
    } else {
      // One more invocation without traffic lets the extension export what is left.
      await env.invoke({ ms: 50 });
      await env.shutdown({ reason: 'spindown' });
      dropped = droppedByReason(env.stdout('observed-lambda'));
    }
    const sentSamples = load.sent * SAMPLES_PER_REQUEST;
    const cpuSeconds = load.after.cpuSeconds - load.before.cpuSeconds;
    let arrived = 'not exported';
    let lastStored = 'not exported';
    if (kind !== 'receiver-only') {
      const n = await arrivedSamples(prometheus, service, sentSamples);
      arrived = `${n.toLocaleString('en-US')} / ${sentSamples.toLocaleString('en-US')}`;
      // Counters hold the request number: the largest value is the last request stored (over a range, as the
      // extension marks its series stale at shutdown).
      const last = await prometheus.query(`max(max_over_time(bench_requests_0_total{job="${service}"}[10m]))`);
      lastStored = `${last[0]?.value?.[1] ?? 'none'} / ${load.sent}`;
    }
    return {
      implementation: label(kind),
      'data points/s (target)': rate,
      'data points/s (sent)': Math.round((load.sent * POINTS_PER_REQUEST) / load.sendSeconds),
      requests: load.sent,
      'failed requests': load.failed,
      'CPU % of one core': (100 * cpuSeconds) / load.wallSeconds,
      'CPU ms per 1,000 samples': (cpuSeconds / sentSamples) * 1e6,
      'CPU vs remote write row (per sample)': undefined as number | undefined,
      'RSS start (MB)': load.before.rssBytes / 1e6,
      'RSS peak (MB)': load.peakRss / 1e6,
      'RSS end (MB)': load.after.rssBytes / 1e6,
      'samples arrived / sent': arrived,
      'last counter value stored / sent': lastStored,
      'dropped (its own counters)': dropped,
    };
  } finally {
    if (collector) await collector.stop();
    if (!env.processInfo.every((p) => !p.running)) await env.shutdown().catch(() => undefined);
  }
}

type Row = Awaited<ReturnType<typeof measureRow>>;

function skippedRow(kind: Kind, rate: number, reason: string): Partial<Row> {
  return {
    implementation: label(kind),
    'data points/s (target)': rate,
    'samples arrived / sent': `skipped: ${reason}`,
  };
}

export async function run(options: { quick?: boolean } = {}) {
  const seconds = options.quick ? 3 : 15;
  const prometheus = await PrometheusServer.start();
  if (!prometheus) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-resources-'));
  try {
    const codeDir = join(dir, 'function');
    execFileSync('mkdir', ['-p', codeDir]);
    writeFileSync(join(codeDir, 'index.js'), HANDLER);
    const { layerDir } = await buildLayer(join(dir, 'build'));
    const setup: Setup = { layerDir, codeDir, prometheus };
    const missing = collectorMissing();
    if (missing) console.warn(`SKIPPING the Collector rows: ${missing}`);
    const rows: Partial<Row>[] = [];
    for (const rate of process.env.BENCH_RATES
      ? process.env.BENCH_RATES.split(',').map(Number)
      : [1_000, 5_000, 10_000]) {
      const group: Partial<Row>[] = [];
      for (const kind of KINDS) {
        group.push(
          kind === 'collector' && missing
            ? skippedRow(kind, rate, missing)
            : await measureRow(kind, setup, rate, seconds),
        );
      }
      // CPU per sample against the remote write row: the same work, whatever the small differences in wall time.
      const reference = group[0]['CPU ms per 1,000 samples'];
      for (const row of group) {
        const own = row['CPU ms per 1,000 samples'];
        if (reference && own !== undefined) row['CPU vs remote write row (per sample)'] = own / reference;
      }
      rows.push(...group);
    }
    return rows;
  } finally {
    await prometheus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const notes = (rows: Record<string, unknown>[]) =>
  `Each request: ${POINTS_PER_REQUEST} data points (${COUNTER_METRICS * ATTRIBUTE_SETS} counter series, ` +
  `${HISTOGRAM_METRICS * ATTRIBUTE_SETS} histogram series with ${BOUNDS.length} bounds), ${SAMPLES_PER_REQUEST} ` +
  `Prometheus samples; paced to the rate on one keep-alive connection, in order, during back-to-back ` +
  `${INVOCATION_MS} ms invocations. Rows per rate, each with a fresh process and the same request stream: the ` +
  'extension (built layer, in the sandbox, a 1,024 MB function: where the host allows, the sandbox makes that a ' +
  'real memory limit, from which Node.js sizes its heap as in Lambda) exporting by remote write to a real ' +
  'Prometheus (default settings); the ' +
  'extension with no exporter configured (HTTP receiving and the Lambda lifecycle only; its drops are the ' +
  '`no_exporter` count); the OpenTelemetry Collector as its own process (the same function runs without the ' +
  'layer), otlp receiver straight into `prometheusremotewrite` (default settings: its sending queue, target_info, ' +
  'suffixes as ours; no batch processor, as the OpenTelemetry Lambda layer default config has none; own ' +
  'telemetry on at level normal, as its default). CPU: utime+stime of the process tree over wall time ' +
  '(1 core = 100%); per 1,000 samples: the same CPU over the samples sent; vs remote write row: that per-sample ' +
  'figure over the observed-lambda remote write row at the same rate. RSS: VmRSS sampled every 200 ms. Arrived: ' +
  "PromQL `count_over_time` over the run, by job (one per row). Dropped: the extension's exit totals, the " +
  `Collector's own counters (data points) and warn/error log lines. Rows: ${rows.length}.`;
