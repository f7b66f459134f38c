/**
 * Benchmark: Telemetry API events per second the platform module handles
 * (per core: CPU time of this process, user + system), from the parsed JSON
 * batch to encoded OTLP payloads (log records per batch, spans and metric
 * updates per completed invocation, one metrics payload per flush), the way
 * the extension runs it: one batch per invocation, holding that invocation's
 * start, logs and runtimeDone and the previous invocation's report, and a
 * flush after each batch.
 *
 * Run alone: `npx tsx bench/cases/telemetry-throughput.ts [--quick]`.
 */
import { PlatformTelemetry } from '../../extension-src/platform/index.js';
import { toAttributes } from '../../extension-src/resource/attributes.js';
import { EVENTS_PER_INVOCATION, invocationEvents } from './telemetry-events.js';

export const title = 'Platform telemetry: Telemetry API events per CPU-second';

export const notes =
  'From the parsed Telemetry API batch to encoded OTLP payloads: log records per batch, five spans and the metric updates per completed invocation, the cumulative metrics per flush. Lambda runs one invocation at a time per environment, so this is far above what one environment delivers.';

export interface TelemetryThroughputResult {
  readonly case: string;
  readonly events: number;
  readonly payloads: number;
  readonly payloadBytes: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly eventsPerCpuSecond: number;
}

export function run(options: { quick?: boolean } = {}): TelemetryThroughputResult[] {
  const invocations = options.quick ? 2_000 : 20_000;
  const t0 = Date.parse('2026-11-23T10:00:00.000Z');
  // Build the batches up front: parsing JSON is the listener's job, not this module's.
  const batches: unknown[][] = [];
  let previousReport: unknown[] = [];
  for (let i = 0; i < invocations; i++) {
    const { beforeNext, afterNext } = invocationEvents(i, t0);
    batches.push([...previousReport, ...beforeNext]);
    previousReport = afterNext;
  }
  batches.push(previousReport);

  const results: TelemetryThroughputResult[] = [];
  for (const flushEvery of [1, 10]) {
    let payloads = 0;
    let payloadBytes = 0;
    const platform = new PlatformTelemetry({
      emit: (p) => {
        payloads++;
        payloadBytes += p.bytes.length;
      },
      resource: () => toAttributes({ 'service.name': 'bench', 'faas.name': 'bench', 'cloud.provider': 'aws' }),
    });
    // Warm up the JIT on a copy of the first batches.
    const warm = new PlatformTelemetry({ emit: () => {}, resource: () => [] });
    for (const b of batches.slice(0, 200)) warm.handleEvents(b);

    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    batches.forEach((batch, i) => {
      platform.handleEvents(batch);
      if (i % flushEvery === 0) platform.flush();
    });
    platform.flush({ final: true });
    const cpu = process.cpuUsage(cpu0);
    const wallSeconds = Number(process.hrtime.bigint() - wall0) / 1e9;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const events = invocations * EVENTS_PER_INVOCATION;
    if (platform.stats().invocations !== invocations) throw new Error('not every invocation completed');
    results.push({
      case: `${invocations} invocations, ${EVENTS_PER_INVOCATION} events each, flush every ${flushEvery} batch(es)`,
      events,
      payloads,
      payloadBytes,
      cpuSeconds,
      wallSeconds,
      eventsPerCpuSecond: Math.round(events / cpuSeconds),
    });
  }
  return results;
}

if (require.main === module) {
  for (const r of run({ quick: process.argv.includes('--quick') })) {
    console.log(
      `${r.case}: ${r.eventsPerCpuSecond.toLocaleString('en')} events/CPU-s (${r.events} events, ${r.payloads} payloads, ${(r.payloadBytes / 1e6).toFixed(1)} MB, ${r.cpuSeconds.toFixed(2)} CPU-s, ${r.wallSeconds.toFixed(2)} s)`,
    );
  }
}
