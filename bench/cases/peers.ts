/**
 * Benchmark: observed-lambda's layers against the Rust OTLP extension (crate opentelemetry-lambda-extension)
 * and the OpenTelemetry Collector Lambda layer, measured the same way in the same run by the sandbox playing
 * Lambda (bench/peers/compare.ts). One row per layer: zipped size, ready time (against bare `node -e 0`),
 * added time after the function's exports, peak RSS and CPU over the invocations, CPU and peak RSS at
 * 10,000 data points/s into remote write, and whether every span, log record and data point arrived exactly
 * once. Our rows also give each figure as a ratio to the best peer's. Peers not built are skipped with the
 * command that builds them.
 *
 * Lambda resolves `sandbox.localdomain`, and the Collector layer binds its Telemetry API listener there. Where
 * this host does not resolve it, the measurement runs in a private mount namespace whose /etc/hosts maps it to
 * 127.0.0.1 (root and unshare needed; otherwise the Collector row is skipped with that reason).
 *
 * Run alone: `npx tsx bench/run.ts peers` (`--quick`: 100 invocations, 1 run, 5 s of load).
 * BENCH_PEERS_RUNS and BENCH_PEERS_INVOCATIONS override the runs and invocations; BENCH_PEERS_LAYERS (e.g.
 * `node,collector`) picks layers (node, portable, rust, collector).
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from '../../test/support/binaries.js';
import {
  type CompareOptions,
  type Comparison,
  compare,
  type LayerResult,
  MEMORY_MB,
  percentile,
} from '../peers/compare.js';
import { RESULT_MARK } from '../peers/compare-worker.js';
import { collectorLayerVersion } from '../peers/layers.js';

/** Four layers, three runs of 1,000 invocations and 20 s of load each: about 6 minutes per run. */
export const timeoutMinutes = 40;

export const title = 'Peers: observed-lambda layers against the Rust OTLP extension and the Collector Lambda layer';

const LOAD_RATE = 10_000;
const LOAD_SECONDS = 20;

async function sandboxHostResolves(): Promise<boolean> {
  try {
    await lookup('sandbox.localdomain');
    return true;
  } catch {
    return false;
  }
}

/** Runs the comparison in a mount namespace whose /etc/hosts also maps sandbox.localdomain to 127.0.0.1. */
async function compareWithSandboxHost(options: CompareOptions): Promise<Comparison> {
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-peers-hosts-'));
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, `${readFileSync('/etc/hosts', 'utf8').trimEnd()}\n127.0.0.1 sandbox.localdomain\n`);
  try {
    const worker = join(__dirname, '..', 'peers', 'compare-worker.ts');
    const child = spawn(
      'unshare',
      [
        '-m',
        '/bin/sh',
        '-c',
        'mount --bind "$0" /etc/hosts && exec "$@"',
        hosts,
        process.execPath,
        ...process.execArgv,
        worker,
        JSON.stringify(options),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
    if (!line) throw new Error(`the comparison exited ${code} without a result:\n${out.slice(-2000)}`);
    return JSON.parse(line.slice(RESULT_MARK.length)) as Comparison;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => percentile(values, 0.5);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const size = (bytes: number) => (bytes >= 1e6 ? mb(bytes) : `${Math.round(bytes / 1e3)} KB`);

/** The figures of one layer, medians over its runs (lower is better for every one). */
function figures(layer: LayerResult, invocations: number) {
  const runs = layer.invocations;
  const loads = layer.loads;
  return {
    zipBytes: layer.zipBytes ?? Number.NaN,
    readyMs: median(runs.map((r) => r.readyMs)),
    addedP50: median(runs.map((r) => percentile(r.addedMs, 0.5))),
    addedP99: median(runs.map((r) => percentile(r.addedMs, 0.99))),
    peakRss: median(runs.map((r) => r.peakRssBytes)),
    cpuPer1000: median(runs.map((r) => (r.cpuSeconds / invocations) * 1000)),
    loadCpu: median(loads.map((l) => l.cpuPercent)),
    loadRss: median(loads.map((l) => l.peakRssBytes)),
  };
}

type Figures = ReturnType<typeof figures>;

function exactlyOnceCell(layer: LayerResult): string {
  const problems = new Map<string, number[]>();
  layer.invocations.forEach((r, i) => {
    const parts = [r.exactlyOnce];
    if (r.failedInvocations > 0) parts.push(`${r.failedInvocations} invocations failed`);
    const text = parts.filter((p) => p !== 'yes').join('; ') || 'yes';
    problems.set(text, [...(problems.get(text) ?? []), i + 1]);
  });
  if (problems.size === 1 && problems.has('yes')) return 'yes';
  return [...problems].map(([text, runs]) => `${text} (run ${runs.join(', ')})`).join('; ');
}

export async function run(options: { quick?: boolean } = {}) {
  const invocations = Number(process.env.BENCH_PEERS_INVOCATIONS ?? (options.quick ? 100 : 1000));
  const compareOptions: CompareOptions = {
    invocations,
    runs: Number(process.env.BENCH_PEERS_RUNS ?? (options.quick ? 1 : 3)),
    loadRate: LOAD_RATE,
    loadSeconds: options.quick ? 5 : LOAD_SECONDS,
    only: process.env.BENCH_PEERS_LAYERS?.split(',') as CompareOptions['only'],
  };
  let comparison: Comparison;
  if (await sandboxHostResolves()) {
    comparison = await compare(compareOptions);
  } else if (process.getuid?.() === 0 && findBinary('unshare')) {
    comparison = await compareWithSandboxHost(compareOptions);
  } else {
    comparison = await compare({
      ...compareOptions,
      unavailable: {
        collector:
          'sandbox.localdomain does not resolve here and a private /etc/hosts needs root and unshare ' +
          '(the Collector binds its Telemetry API listener to that name)',
      },
    });
  }
  const bareNodeMs = median(comparison.bareNodeMs);
  const measured = comparison.layers.filter((l) => !l.skipped);
  const byKey = new Map(measured.map((l) => [l.key, figures(l, invocations)]));
  const peers = [byKey.get('rust'), byKey.get('collector')].filter((f): f is Figures => f !== undefined);
  const best = (pick: (f: Figures) => number) => (peers.length > 0 ? Math.min(...peers.map(pick)) : Number.NaN);
  const isOurs = (layer: LayerResult) => layer.key === 'node' || layer.key === 'portable';
  /** "value (ratio x best peer)" on our rows, where a peer was measured. */
  const cell = (layer: LayerResult, f: Figures, pick: (f: Figures) => number, text: string) => {
    const reference = best(pick);
    if (!isOurs(layer) || !(reference > 0)) return text;
    return `${text} (${(pick(f) / reference).toFixed(2)}x)`;
  };
  const collectorVersion = collectorLayerVersion();
  const rows: Record<string, string>[] = comparison.layers.map((layer): Record<string, string> => {
    const name = layer.key === 'collector' && collectorVersion ? `${layer.label} (${collectorVersion})` : layer.label;
    const f = byKey.get(layer.key);
    if (!f) return { layer: name, 'zipped layer': `skipped: ${layer.skipped}` };
    const via = layer.loads[0]?.via === 'OTLP' ? ' (OTLP: no remote write)' : '';
    return {
      layer: name,
      'zipped layer': cell(layer, f, (x) => x.zipBytes, size(f.zipBytes)),
      'ready: spawn to first /next': `${f.readyMs} ms (${(f.readyMs / bareNodeMs).toFixed(2)}x bare node)`,
      'added after exports p50 / p99': cell(
        layer,
        f,
        (x) => x.addedP99,
        `${f.addedP50.toFixed(2)} / ${f.addedP99.toFixed(2)} ms`,
      ),
      [`peak RSS after ${invocations.toLocaleString('en-US')} invocations`]: cell(
        layer,
        f,
        (x) => x.peakRss,
        mb(f.peakRss),
      ),
      'CPU per 1,000 invocations': cell(layer, f, (x) => x.cpuPer1000, `${f.cpuPer1000.toFixed(2)} s`),
      [`${LOAD_RATE.toLocaleString('en-US')} points/s: CPU, peak RSS`]: `${cell(
        layer,
        f,
        (x) => x.loadCpu,
        `${f.loadCpu.toFixed(1)} %`,
      )}, ${cell(layer, f, (x) => x.loadRss, mb(f.loadRss))}${via}`,
      'load arrived (last run)': layer.loads[layer.loads.length - 1]?.arrived ?? '',
      'exactly once': exactlyOnceCell(layer),
    };
  });
  rows.push({
    layer: `bare \`node -e 0\` (${process.version})`,
    'ready: spawn to first /next': `${bareNodeMs.toFixed(0)} ms`,
  });
  return rows;
}

export const notes = (rows: Record<string, unknown>[]) =>
  `Same run, ${rows.length - 1} layers, medians of the runs (BENCH_PEERS_RUNS, default 3). Each layer runs alone ` +
  `in the sandbox (a ${MEMORY_MB} MB function, a real memory limit where the host allows) with its own ` +
  'documented settings, every address on loopback: observed-lambda with OBSERVED_OTLP_ENDPOINT (OBSERVED_REMOTE_WRITE_URL ' +
  'for the load); the Rust extension with LAMBDA_OTEL_EXPORTER_ENDPOINT, LAMBDA_OTEL_RECEIVER_HTTP_PORT and ' +
  'LAMBDA_OTEL_TELEMETRY_API_LISTENER_PORT (its listener binds all interfaces; it has no remote write, so its load ' +
  'goes to the OTLP sink); the Collector layer with a config in OPENTELEMETRY_COLLECTOR_CONFIG_URI: otlp receiver ' +
  '(HTTP on 127.0.0.1) into otlphttp, or prometheusremotewrite for the load, no processors (as its default config), ' +
  'its own metrics on loopback. The function sends per invocation 5 spans, 1 log record and 1 gauge point (value: ' +
  'the invocation number) as three OTLP/HTTP JSON requests at once (64-bit integers as strings, as the OTLP JSON ' +
  'mapping writes them), then tells the extension it is done its own way (observed-lambda: POST ' +
  '/observed/v1/flushed; Rust: POST /invocation/complete; the Collector has none and waits for ' +
  "platform.runtimeDone), then returns. Zipped layer: every file of the layer through the project's zip writer " +
  '(deflate level 9); KB and MB are 1,000 and 1,000,000 bytes. Ready: extension spawn to its first /next (whole ' +
  'ms), against `node -e 0` spawn to exit, 20 per run. Added after exports: the platform.report ' +
  'extensionOverhead span (the runtime asks for its next event, having sent its exports and response, until every ' +
  "extension waits in /next), p50 and p99 of each run. Peak RSS: VmHWM of the extension's process tree after the " +
  'invocations. CPU: utime+stime of that tree from the end of init to the last invocation. Load: the request ' +
  'stream of `extension-resources` (50 cumulative series per request) at 10,000 data points/s during 500 ms ' +
  'invocations back to back; CPU over wall time (1 core = 100 %), RSS sampled every 200 ms. Exactly once: after ' +
  'SHUTDOWN, every span (by id and name), log record (by body) and point (by value) counted at the sink. ' +
  "On our rows, (Nx) is the figure over the best peer's (for added time, the p99).";
