/**
 * The same-run comparison behind `npm run bench -- peers` (and `node-layer-vs`, which passes its own two layers):
 * every layer of bench/peers/layers.ts runs in the
 * sandbox (the local Lambda: Extensions and Telemetry APIs, freeze/thaw, the memory size as a real limit),
 * one after another within each run, so each run loads the machine the same way for every layer.
 *
 * Per layer and run:
 * - invocations: a fresh environment runs the function of bench/peers/function.ts `invocations` times against
 *   an OTLP sink; ready time is the extension's spawn to its first `/next` (sandbox event log, whole ms); added
 *   time is the platform.report `extensionOverhead` span (the runtime asking for its next event, after its
 *   exports and response, until every extension waits in `/next`); CPU is utime+stime of the extension's process
 *   tree from the end of init to the last invocation; peak RSS is its VmHWM after the last invocation; the cold
 *   start is the init phase and the first invocation's duration, as platform.report gives them. After a
 *   SHUTDOWN the sink is checked by id and value.
 * - load: a fresh environment whose function runs 500 ms invocations back to back while this process posts
 *   OTLP/HTTP protobuf metrics to the extension's receiver at `loadRate` data points/s for `loadSeconds`
 *   (the request stream of bench/cases/extension-resources.ts), exported by remote write to a real Prometheus
 *   (OTLP to the sink for a layer without remote write); CPU over wall time and peak RSS (sampled).
 * And `node -e 0`, 20 times per run, as the reference for start-up.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment, type SandboxEvent } from '../../sandbox/index.js';
import { OtlpSink } from '../../test/support/otlp-sink.js';
import { freePort, PrometheusServer } from '../../test/support/prometheus.js';
import {
  arrivedSamples,
  droppedByReason,
  POINTS_PER_REQUEST,
  SAMPLES_PER_REQUEST,
  sendLoad,
} from '../cases/extension-resources.js';
import { exactlyOnce, HANDLER } from './function.js';
import { PEER_LAYERS, type PeerLayer, type PreparedLayer, type Targets } from './layers.js';
import { treePeakRss, treeUsage } from './proc-usage.js';
import { RawOtlpSink } from './raw-sink.js';

/** Large enough that no layer's memory use is bounded by it; the same for every layer. */
export const MEMORY_MB = 1024;
const BARE_NODE_STARTS = 20;

export interface CompareOptions {
  invocations: number;
  /** Only these layers (all by default). */
  only?: PeerLayer['key'][];
  /** Layers that cannot run in this process, with the reason (their rows are skipped). */
  unavailable?: Partial<Record<PeerLayer['key'], string>>;
  runs: number;
  loadRate: number;
  loadSeconds: number;
  /** Every other run takes the layers in reverse order (A B, B A, ...), so a drift in load favours none. */
  alternateOrder?: boolean;
}

export interface InvocationRun {
  readyMs: number;
  /** The init phase (runtime and extensions) as the first invocation's platform.report gives it. */
  initMs: number;
  /** The first invocation's duration (platform.report: its work, then until every extension waits in /next). */
  firstInvocationMs: number;
  addedMs: number[];
  failedInvocations: number;
  cpuSeconds: number;
  peakRssBytes: number;
  exactlyOnce: string;
}

export interface LoadRun {
  cpuPercent: number;
  peakRssBytes: number;
  /** Remote write: samples stored in Prometheus / sent; OTLP: data points at the sink / sent. */
  arrived: string;
  via: 'remote write' | 'OTLP';
}

export interface LayerResult {
  key: PeerLayer['key'];
  label: string;
  skipped?: string;
  zipBytes?: number;
  invocations: InvocationRun[];
  loads: LoadRun[];
}

export interface Comparison {
  bareNodeMs: number[];
  layers: LayerResult[];
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Wall time of `node -e 0` (the Node.js running this), spawn to exit. */
function bareNodeStart(): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`node -e 0 exited ${result.status}`);
  return performance.now() - start;
}

function extensionPid(env: LambdaEnvironment): number {
  const pid = env.processInfo.find((p) => p.kind === 'extension' && p.running)?.pid;
  if (!pid) throw new Error(`no extension process: ${JSON.stringify(env.processInfo)}`);
  return pid;
}

/** Spawn of the extension's process to its first `/next` (init: registered, subscribed, waiting). */
function readyMs(events: readonly SandboxEvent[], extensionName: string): number {
  const spawn = events.find((e) => e.type === 'process.spawn' && e.name === extensionName);
  const next = events.find((e) => e.type === 'extension.next');
  if (!spawn || !next) throw new Error(`the sandbox log lacks the spawn or first /next of ${extensionName}`);
  return next.timeMs - spawn.timeMs;
}

/** The invocation's `extensionOverhead` span from its platform.report (fractional ms; 0 when absent). */
function extensionOverhead(events: readonly SandboxEvent[]): number | undefined {
  for (const e of events) {
    const event = e.type === 'telemetry.event' ? (e.data?.event as { type?: string; record?: unknown }) : undefined;
    if (event?.type !== 'platform.report') continue;
    const spans = (event.record as { spans?: { name: string; durationMs: number }[] }).spans ?? [];
    return spans.find((s) => s.name === 'extensionOverhead')?.durationMs;
  }
  return undefined;
}

interface Setup {
  codeDir: string;
  scratchDir: string;
  prometheus?: PrometheusServer;
}

async function startEnvironment(
  layer: PreparedLayer,
  setup: Setup,
  targets: Targets,
): Promise<{
  env: LambdaEnvironment;
  port: number;
}> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(layer, setup, targets);
    } catch (error) {
      // A port found free can be taken before the extension binds it (other jobs share the host); the Rust
      // extension's Telemetry API listener also binds anew for every connection and aborts when it cannot.
      if (attempt >= 3 || !/AddrInUse|EADDRINUSE|address already in use/i.test(JSON.stringify(error, errorFields)))
        throw error;
      console.error(`${layer.extensionName}: a port was taken during init; starting a fresh environment`);
    }
  }
}

function errorFields(_key: string, value: unknown): unknown {
  return value instanceof Error ? { ...value, message: value.message } : value;
}

async function startOnce(
  layer: PreparedLayer,
  setup: Setup,
  targets: Targets,
): Promise<{
  env: LambdaEnvironment;
  port: number;
}> {
  const port = await freePort();
  const env = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: setup.codeDir,
    layers: [layer.layerDir],
    env: {
      ...(await layer.environment(targets, port, setup.scratchDir)),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OBSERVED_RECEIVER_PORT: String(port),
      BENCH_COMPLETION: layer.completion,
    },
    memorySizeMb: MEMORY_MB,
    timeoutMs: 10_000,
  });
  return { env, port };
}

async function invocationRun(layer: PreparedLayer, setup: Setup, invocations: number): Promise<InvocationRun> {
  const sink = await new OtlpSink().start();
  try {
    const { env } = await startEnvironment(layer, setup, { otlpUrl: sink.url });
    try {
      const ready = readyMs(env.events, layer.extensionName);
      const pid = extensionPid(env);
      const before = treeUsage(pid);
      const added: number[] = [];
      let failed = 0;
      let initMs = Number.NaN;
      let firstInvocationMs = Number.NaN;
      for (let n = 1; n <= invocations; n++) {
        const r = await env.invoke({ n });
        if (n === 1) {
          initMs = r.initDurationMs ?? Number.NaN;
          firstInvocationMs = r.durationMs;
        }
        if (r.status !== 'success') failed++;
        const overhead = extensionOverhead(r.events);
        if (overhead !== undefined) added.push(overhead);
      }
      const after = treeUsage(pid);
      const peakRssBytes = treePeakRss(pid);
      await env.shutdown({ reason: 'spindown' });
      return {
        readyMs: ready,
        initMs,
        firstInvocationMs,
        addedMs: added,
        failedInvocations: failed,
        cpuSeconds: after.cpuSeconds - before.cpuSeconds,
        peakRssBytes,
        exactlyOnce: exactlyOnce(sink, invocations),
      };
    } finally {
      if (!env.processInfo.every((p) => !p.running)) await env.shutdown().catch(() => undefined);
    }
  } finally {
    await sink.stop();
  }
}

/** Data points of the load's metrics (bench.*) that reached the sink. */
function sinkPoints(sink: RawOtlpSink): number {
  let points = 0;
  for (const m of sink.metrics()) {
    if (!m.name?.startsWith('bench.')) continue;
    points += (m.sum?.dataPoints?.length ?? 0) + (m.histogram?.dataPoints?.length ?? 0);
  }
  return points;
}

async function loadRun(layer: PreparedLayer, setup: Setup, options: CompareOptions, service: string): Promise<LoadRun> {
  const sink = await new RawOtlpSink().start();
  const remoteWrite = layer.remoteWrite && setup.prometheus !== undefined;
  try {
    const targets: Targets = {
      otlpUrl: sink.url,
      remoteWriteUrl: remoteWrite ? setup.prometheus?.remoteWriteUrl : undefined,
    };
    const { env, port } = await startEnvironment(layer, setup, targets);
    try {
      await env.invoke({ ms: 50 }); // warm-up: first invocation's code paths
      const load = await sendLoad(env, port, extensionPid(env), service, options.loadRate, options.loadSeconds);
      // One more invocation without traffic lets the extension export what is left; SHUTDOWN flushes the rest.
      await env.invoke({ ms: 50 });
      const shutdown = await env.shutdown({ reason: 'spindown' });
      // observed-lambda says at exit what it dropped and why, so a shortfall is told apart from a counted drop;
      // the platform's spans and logs, with no exporter for them in a remote-write-only run, are not the load's.
      const dropped =
        layer.extensionName === 'observed-lambda'
          ? droppedByReason(env.stdout(layer.extensionName))
              .split(', ')
              .filter((part) => !part.includes('no_exporter'))
              .join(', ') || 'none'
          : 'none';
      let arrived: string;
      if (remoteWrite && setup.prometheus) {
        const sent = load.sent * SAMPLES_PER_REQUEST;
        const n = await arrivedSamples(setup.prometheus, service, sent);
        arrived = `${n.toLocaleString('en-US')} / ${sent.toLocaleString('en-US')} samples`;
      } else {
        const sent = load.sent * POINTS_PER_REQUEST;
        arrived = `${sinkPoints(sink).toLocaleString('en-US')} / ${sent.toLocaleString('en-US')} points`;
      }
      if (load.failed > 0) arrived += `, ${load.failed} of ${load.sent} requests refused`;
      if (dropped !== 'none') arrived += ` (dropped: ${dropped})`;
      if (shutdown.killed.length > 0) arrived += ' (killed at the SHUTDOWN deadline)';
      return {
        cpuPercent: (100 * (load.after.cpuSeconds - load.before.cpuSeconds)) / load.wallSeconds,
        peakRssBytes: load.peakRss,
        arrived,
        via: remoteWrite ? 'remote write' : 'OTLP',
      };
    } finally {
      if (!env.processInfo.every((p) => !p.running)) await env.shutdown().catch(() => undefined);
    }
  } finally {
    await sink.stop();
  }
}

export async function compare(
  options: CompareOptions,
  log: (line: string) => void = console.error,
  candidates: readonly PeerLayer[] = PEER_LAYERS,
): Promise<Comparison> {
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-peers-'));
  const prometheus = await PrometheusServer.start();
  if (!prometheus) log('prometheus is not installed: the load runs export OTLP to the sink instead of remote write');
  try {
    const codeDir = join(dir, 'function');
    mkdirSync(codeDir);
    writeFileSync(join(codeDir, 'index.js'), HANDLER);
    const setup: Setup = { codeDir, scratchDir: dir, prometheus };
    const layers: { peer: PeerLayer; prepared?: PreparedLayer; result: LayerResult }[] = [];
    for (const peer of candidates.filter((p) => !options.only || options.only.includes(p.key))) {
      const skipped = peer.missing() ?? options.unavailable?.[peer.key];
      if (skipped) log(`SKIPPING ${peer.label}: ${skipped}`);
      const prepared = skipped ? undefined : await peer.prepare(dir);
      layers.push({
        peer,
        prepared,
        result: { key: peer.key, label: peer.label, skipped, zipBytes: prepared?.zipBytes, invocations: [], loads: [] },
      });
    }
    const bareNodeMs: number[] = [];
    for (let run = 1; run <= options.runs; run++) {
      for (let i = 0; i < BARE_NODE_STARTS; i++) bareNodeMs.push(bareNodeStart());
      const order = options.alternateOrder && run % 2 === 0 ? [...layers].reverse() : layers;
      for (const { peer, prepared, result } of order) {
        if (!prepared) continue;
        log(`run ${run}: ${peer.label}, ${options.invocations} invocations`);
        result.invocations.push(await invocationRun(prepared, setup, options.invocations));
      }
      for (const { peer, prepared, result } of order) {
        if (!prepared) continue;
        log(`run ${run}: ${peer.label}, ${options.loadRate} data points/s for ${options.loadSeconds} s`);
        result.loads.push(await loadRun(prepared, setup, options, `peers-${peer.key}-${run}`));
      }
    }
    return { bareNodeMs, layers: layers.map((l) => l.result) };
  } finally {
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
