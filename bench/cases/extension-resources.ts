/**
 * Benchmark: CPU share and RSS of the whole extension process (the built
 * layer, in the sandbox) while a busy function sends it OTLP metrics at 1k,
 * 5k and 10k data points per second, exported by Prometheus remote write to a
 * real Prometheus. Aim: 10k data points per second under 10% of a core and
 * under 100 MB RSS.
 *
 * The function's invocations last 500 ms each, back to back; during them
 * this process posts OTLP/HTTP protobuf metrics requests to the extension's
 * receiver, paced to the target rate, as a function flushing its SDK would.
 * Each request carries 50 cumulative series (30 counter series, 20 histogram
 * series with 10 bounds) encoded with the project's OTLP codec (official
 * protos). CPU is utime+stime of the extension process and its descendants
 * (/proc/<pid>/stat) over wall time; RSS is VmRSS (/proc/<pid>/status),
 * sampled every 200 ms. Prometheus is then asked how many samples arrived.
 *
 * Run alone: `npx tsx bench/run.ts extension-resources`. For experiments,
 * BENCH_RATES (e.g. `10000`) picks the rates and BENCH_FUNCTION_ENV (JSON)
 * adds function environment variables, which the extension inherits (e.g.
 * `{"NODE_OPTIONS":"--require /path/to/profiler.cjs"}`, or
 * `{"OBSERVED_REMOTE_WRITE_URL":""}` for the receiver alone).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRequest } from '../../extension-src/otlp/proto.js';
import type { ExportMetricsServiceRequest, KeyValue, Metric } from '../../extension-src/otlp/types.js';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { PrometheusServer } from '../../test/support/prometheus.js';

export const title = 'Extension CPU and memory under metric load';

const COUNTER_METRICS = 3;
const HISTOGRAM_METRICS = 2;
const ATTRIBUTE_SETS = 10;
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const POINTS_PER_REQUEST = (COUNTER_METRICS + HISTOGRAM_METRICS) * ATTRIBUTE_SETS;
/** Prometheus samples per request: one per counter point; buckets + +Inf + sum + count per histogram point. */
const SAMPLES_PER_REQUEST = ATTRIBUTE_SETS * (COUNTER_METRICS + HISTOGRAM_METRICS * (BOUNDS.length + 3));
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
function droppedByReason(extensionStdout: string): string {
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

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The pid and its descendants (an extension may start children). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

/** CPU seconds (utime+stime) and RSS bytes of the tree. */
function usage(root: number): { cpuSeconds: number; rssBytes: number } {
  let ticks = 0;
  let rss = 0;
  for (const pid of processTree(root)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) rss += Number(m[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return { cpuSeconds: ticks / CLK_TCK, rssBytes: rss };
}

const HANDLER = `exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.ms ?? 0));
  return { ok: true };
};
`;

async function measureRate(
  layerDir: string,
  codeDir: string,
  prometheus: PrometheusServer,
  pointsPerSecond: number,
  seconds: number,
) {
  const service = `bench-extension-${pointsPerSecond}`;
  const env = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir,
    layers: [layerDir],
    env: {
      OBSERVED_REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
      ...JSON.parse(process.env.BENCH_FUNCTION_ENV ?? '{}'),
    },
    memorySizeMb: 1024,
    timeoutMs: 10_000,
  });
  // One connection, as an SDK's metric reader exports one request at a time, in order.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await env.invoke({ ms: 50 }); // warm-up: first invocation's code paths
    const pid = env.processInfo.find((p) => p.kind === 'extension' && p.running)?.pid;
    if (!pid) throw new Error(`no extension process: ${JSON.stringify(env.processInfo)}`);
    const requestsPerSecond = pointsPerSecond / POINTS_PER_REQUEST;
    const intervalMs = 1000 / requestsPerSecond;
    const startMs = Date.now();
    const before = usage(pid);
    let peakRss = before.rssBytes;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, usage(pid).rssBytes);
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
    // Paced by the schedule, not by replies: a slow extension makes requests queue, not the rate drop.
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
      const p = post(agent, env.receiverPort, body).then((status) => {
        if (status < 200 || status >= 300) failed++;
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    const sendEnd = Date.now();
    await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 15_000))]);
    sending = false;
    await invoking;
    const after = usage(pid);
    const wallSeconds = (Date.now() - startMs) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, after.rssBytes);
    // One more invocation without traffic lets the extension export what is left.
    await env.invoke({ ms: 50 });
    await env.shutdown({ reason: 'spindown' });
    const dropped = droppedByReason(env.stdout('observed-lambda'));
    const sentSamples = sent * SAMPLES_PER_REQUEST;
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
    // Counters hold the request number: the largest value is the last request stored (over a range, as the
    // extension marks its series stale at shutdown).
    const lastCounter = await prometheus.query(`max(max_over_time(bench_requests_0_total{job="${service}"}[10m]))`);
    return {
      'data points/s (target)': pointsPerSecond,
      'data points/s (sent)': Math.round((sent * POINTS_PER_REQUEST) / ((sendEnd - startMs) / 1000)),
      requests: sent,
      'failed requests': failed,
      'CPU % of one core': (100 * (after.cpuSeconds - before.cpuSeconds)) / wallSeconds,
      'RSS start (MB)': before.rssBytes / 1e6,
      'RSS peak (MB)': peakRss / 1e6,
      'RSS end (MB)': after.rssBytes / 1e6,
      'samples arrived / sent': `${arrived.toLocaleString('en-US')} / ${sentSamples.toLocaleString('en-US')}`,
      'last counter value stored / sent': `${lastCounter[0]?.value?.[1] ?? 'none'} / ${sent}`,
      'dropped by the extension (its exit totals)': dropped,
    };
  } finally {
    agent.destroy();
    if (!env.processInfo.every((p) => !p.running)) await env.shutdown().catch(() => undefined);
  }
}

export async function run(options: { quick?: boolean } = {}) {
  const seconds = options.quick ? 5 : 15;
  const prometheus = await PrometheusServer.start();
  if (!prometheus) throw new Error('prometheus is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-resources-'));
  try {
    const codeDir = join(dir, 'function');
    execFileSync('mkdir', ['-p', codeDir]);
    writeFileSync(join(codeDir, 'index.js'), HANDLER);
    const { layerDir } = await buildLayer(join(dir, 'build'));
    const rows = [];
    for (const rate of process.env.BENCH_RATES
      ? process.env.BENCH_RATES.split(',').map(Number)
      : [1_000, 5_000, 10_000]) {
      rows.push(await measureRate(layerDir, codeDir, prometheus, rate, seconds));
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
  `Prometheus samples; sent to the extension's OTLP/HTTP receiver during back-to-back ${INVOCATION_MS} ms ` +
  'invocations, remote write to a real Prometheus (default exporter settings). CPU: utime+stime of the extension ' +
  'process over wall time (1 core = 100%); RSS: VmRSS sampled every 200 ms. Arrived: PromQL ' +
  '`count_over_time` over the run. Aim: 10k data points/s under 10% of a core and 100 MB RSS; for comparison, ' +
  `ADOT was reported at 45% CPU and 1.37 GB at 10k data points/s. Rows: ${rows.length}.`;
