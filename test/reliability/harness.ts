/**
 * Fault tests' harness: the real extension (built from source into a layer)
 * in a sandboxed Lambda environment, a function that emits a known number of
 * samples per invocation, a fault-injecting remote write endpoint before a
 * real Prometheus, and the three numbers every case is judged by: samples
 * sent (what the function emitted), arrived (counted by PromQL in
 * Prometheus) and counted as dropped (the extension's own totals, logged at
 * exit).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaEnvironment, type LambdaEnvironmentOptions } from '../../sandbox/index.js';
import type { PrometheusServer } from '../support/prometheus.js';

export const EMITTER = join(__dirname, 'fixtures', 'emitter');

export interface ExtensionTotals {
  received: Record<string, Record<string, number>>;
  pipelineDropped: Record<string, Record<string, number>>;
  exporters: {
    exporter: string;
    signal: string;
    unit: string;
    exported: number;
    retried: number;
    dropped: Record<string, number>;
  }[];
}

/** The extension's environment for exact sample accounting: only the function's samples go to remote write. */
export function extensionEnv(remoteWriteUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OBSERVED_REMOTE_WRITE_URL: remoteWriteUrl,
    OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
    OBSERVED_SELF_METRICS: 'false',
    // Platform metrics would be samples too; the function's flushed notice ends each invocation instead.
    OBSERVED_TELEMETRY_TYPES: 'none',
    OBSERVED_FLUSH: 'end-of-invocation',
    OBSERVED_LOG_LEVEL: 'debug',
    ...extra,
  };
}

export async function startEmitter(
  remoteWriteUrl: string,
  options: Partial<LambdaEnvironmentOptions> & { layerDir: string; extraEnv?: Record<string, string> },
): Promise<LambdaEnvironment> {
  const { layerDir, extraEnv, ...rest } = options;
  return LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: EMITTER,
    layers: [layerDir],
    timeoutMs: 5_000,
    ...rest,
    env: { ...extensionEnv(remoteWriteUrl, extraEnv), ...(rest.env ?? {}) },
  });
}

/** Samples of a run stored in Prometheus (staleness markers excluded), by PromQL. */
export async function arrived(prom: PrometheusServer, run: string): Promise<number> {
  const result = await prom.query(`sum(count_over_time(reliability_sample{run="${run}"}[1h]))`);
  return result.length === 0 ? 0 : Number(result[0].value?.[1] ?? 0);
}

/** Distinct values of the `s` label that arrived (which series made it). */
export async function arrivedSeries(prom: PrometheusServer, run: string): Promise<number[]> {
  const result = await prom.query(`count by (s) (count_over_time(reliability_sample{run="${run}"}[1h]))`);
  return result.map((r) => Number(r.metric.s)).sort((a, b) => a - b);
}

/**
 * The totals the extension logs when it exits, summed over every extension
 * process the environment had (a crash or timeout starts a new one);
 * undefined if none got to log them (SIGKILL).
 */
export function exitTotals(env: LambdaEnvironment): ExtensionTotals | undefined {
  const lines = env
    .stdout('observed-lambda')
    .split('\n')
    .filter((l) => l.includes(' totals {'));
  if (lines.length === 0) return undefined;
  const sum: ExtensionTotals = { received: {}, pipelineDropped: {}, exporters: [] };
  for (const line of lines) {
    const t = JSON.parse(line.slice(line.indexOf(' totals ') + 8)) as ExtensionTotals;
    for (const key of ['received', 'pipelineDropped'] as const) {
      for (const [signal, counts] of Object.entries(t[key])) {
        sum[key][signal] ??= {};
        const into = sum[key][signal];
        for (const [k, n] of Object.entries(counts)) into[k] = (into[k] ?? 0) + n;
      }
    }
    sum.exporters.push(...t.exporters);
  }
  return sum;
}

/** Samples the extension counted as dropped: before the exporter (pipeline, in data points = samples here) and by it. */
export function countedDropped(totals: ExtensionTotals): {
  pipeline: number;
  exporter: number;
  byReason: Record<string, number>;
} {
  const byReason: Record<string, number> = {};
  let pipeline = 0;
  for (const [reason, n] of Object.entries(totals.pipelineDropped.metrics ?? {})) {
    pipeline += n;
    byReason[`pipeline:${reason}`] = n;
  }
  let exporter = 0;
  for (const row of totals.exporters.filter((r) => r.exporter === 'remote-write')) {
    for (const [reason, n] of Object.entries(row.dropped)) {
      exporter += n;
      byReason[`remote-write:${reason}`] = (byReason[`remote-write:${reason}`] ?? 0) + n;
    }
  }
  return { pipeline, exporter, byReason };
}

/** The last "N item(s) still pending" the extension logged (debug level) before `beforeMs`. */
export function lastPending(env: LambdaEnvironment, beforeMs = Number.POSITIVE_INFINITY): number | undefined {
  let found: number | undefined;
  for (const e of env.events) {
    if (e.type !== 'log' || e.timeMs > beforeMs) continue;
    const line = String((e.data as { line?: string } | undefined)?.line ?? '');
    const m = /(\d+) item\(s\) still pending/.exec(line);
    if (m) found = Number(m[1]);
  }
  return found;
}

/** Resident and heap-ish memory of a process from /proc (kB). */
export function procMemory(pid: number): { rssKb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return rss ? { rssKb: Number(rss[1]) } : undefined;
  } catch {
    return undefined;
  }
}

export function extensionPid(env: LambdaEnvironment): number | undefined {
  return env.processInfo.find((p) => p.kind !== 'runtime' && p.name === 'observed-lambda' && p.running)?.pid;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
