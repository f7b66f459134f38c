/**
 * Soak: one Lambda environment (the real extension in the sandbox) through
 * many invocations, frozen between them as Lambda leaves an idle environment
 * (with a longer idle freeze now and then), writing into a real Prometheus.
 * Samples the extension process's memory from /proc (VmRSS and RssAnon) over
 * time, fits the slope, measures the time the extension adds after the
 * function's response (runtime.response to freeze) and checks with PromQL
 * that every sample arrived.
 *
 *   npm run soak -- [--invocations 10000] [--pause-every 500] [--pause-ms 5000]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { LambdaEnvironment } from '../sandbox/index.js';
import { arrived, extensionPid, sleep, startEmitter } from '../test/reliability/harness.js';
import { PrometheusServer } from '../test/support/prometheus.js';

export interface SoakOptions {
  readonly invocations: number;
  readonly series: number;
  /** A longer idle freeze after this many invocations. */
  readonly pauseEvery: number;
  readonly pauseMs: number;
  readonly layerDir: string;
  readonly log?: (line: string) => void;
}

export interface MemorySample {
  readonly invocation: number;
  readonly rssKb: number;
  readonly anonKb: number;
}

export interface SoakReport {
  readonly run: string;
  readonly invocations: number;
  readonly failures: number;
  readonly sent: number;
  readonly arrived: number;
  readonly seconds: number;
  readonly memory: MemorySample[];
  /** Least-squares slope over the second half, kB of RSS per 1,000 invocations. */
  readonly rssSlopeKbPer1000: number;
  readonly anonSlopeKbPer1000: number;
  readonly rssFirstKb: number;
  readonly rssLastKb: number;
  /** Time from the function's response to the freeze (the extension's flush and /next). */
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  readonly freezes: number;
}

function memoryOf(pid: number): { rssKb: number; anonKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    return { rssKb: field('VmRSS'), anonKb: field('RssAnon') };
  } catch {
    return undefined;
  }
}

export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Post-response time of each invocation, from the sandbox's event log. */
function addedTimes(env: LambdaEnvironment, fromSeq: number): number[] {
  const out: number[] = [];
  let responseAt: number | undefined;
  for (const e of env.events) {
    if (e.seq < fromSeq) continue;
    if (e.type === 'runtime.response') responseAt = e.timeMs;
    else if (e.type === 'freeze' && responseAt !== undefined) {
      out.push(e.timeMs - responseAt);
      responseAt = undefined;
    }
  }
  return out;
}

export async function runSoak(prom: PrometheusServer, options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const run = `soak-${Date.now().toString(36)}`;
  const env = await startEmitter(prom.remoteWriteUrl, {
    layerDir: options.layerDir,
    functionName: run,
    timeoutMs: 10_000,
    // The event log would otherwise hold every output line of a long run.
    extraEnv: { OBSERVED_LOG_LEVEL: 'warn' },
  });
  const memory: MemorySample[] = [];
  const added: number[] = [];
  let failures = 0;
  let sent = 0;
  const t0 = Date.now();
  try {
    await env.invoke({ run, seq: 0, series: 0 });
    const pid = extensionPid(env);
    let cursor = env.log.cursor;
    const every = Math.max(1, Math.floor(options.invocations / 200));
    for (let i = 1; i <= options.invocations; i++) {
      const r = await env.invoke({ run, seq: i, series: options.series });
      if (r.status === 'success') sent += options.series;
      else failures++;
      if (i % every === 0 && pid) {
        const m = memoryOf(pid);
        if (m) memory.push({ invocation: i, ...m });
      }
      // The event log is bounded (oldest entries go): read it in slices.
      if (i % 100 === 0) {
        added.push(...addedTimes(env, cursor));
        cursor = env.log.cursor;
      }
      if (options.pauseEvery > 0 && i % options.pauseEvery === 0) {
        log(`${i} invocations, rss ${memory[memory.length - 1]?.rssKb ?? '?'} kB; idle (frozen) ${options.pauseMs} ms`);
        await sleep(options.pauseMs);
      }
    }
    added.push(...addedTimes(env, cursor));
  } finally {
    await env.shutdown().catch(() => undefined);
  }
  const seconds = (Date.now() - t0) / 1000;
  const got = await arrived(prom, run);
  const half = memory.slice(Math.floor(memory.length / 2));
  return {
    run,
    invocations: options.invocations,
    failures,
    sent,
    arrived: got,
    seconds,
    memory,
    rssSlopeKbPer1000: slope(half.map((m) => [m.invocation, m.rssKb])) * 1000,
    anonSlopeKbPer1000: slope(half.map((m) => [m.invocation, m.anonKb])) * 1000,
    rssFirstKb: memory[0]?.rssKb ?? 0,
    rssLastKb: memory[memory.length - 1]?.rssKb ?? 0,
    addedP50Ms: percentile(added, 50),
    addedP99Ms: percentile(added, 99),
    freezes: added.length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      invocations: { type: 'string' },
      series: { type: 'string' },
      'pause-every': { type: 'string' },
      'pause-ms': { type: 'string' },
    },
  });
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildLayer } = await import('./build-extension.js');
  const root = mkdtempSync(join(tmpdir(), 'observed-soak-'));
  const prom = await PrometheusServer.start();
  if (!prom) throw new Error('prometheus is not installed');
  try {
    const { layerDir } = await buildLayer(root);
    const report = await runSoak(prom, {
      invocations: Number(values.invocations ?? 10_000),
      series: Number(values.series ?? 10),
      pauseEvery: Number(values['pause-every'] ?? 500),
      pauseMs: Number(values['pause-ms'] ?? 5_000),
      layerDir,
      log: (line) => console.log(line),
    });
    const { memory, ...summary } = report;
    console.log(JSON.stringify({ ...summary, memorySamples: memory.length }, null, 2));
    console.log(
      `${report.invocations} invocations in ${report.seconds.toFixed(0)} s, ${report.failures} failed; sent ${report.sent}, arrived ${report.arrived} (PromQL); extension RSS ${report.rssFirstKb} -> ${report.rssLastKb} kB, slope ${report.rssSlopeKbPer1000.toFixed(1)} kB per 1,000 invocations (anon ${report.anonSlopeKbPer1000.toFixed(1)}); added time p50 ${report.addedP50Ms} ms, p99 ${report.addedP99Ms} ms`,
    );
    process.exitCode = report.sent === report.arrived && report.failures === 0 ? 0 : 1;
  } finally {
    await prom.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
