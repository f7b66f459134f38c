/**
 * Benchmark: memory the platform module adds per 1,000 buffered Telemetry API
 * events. "Buffered" means held while waiting for the rest of an invocation:
 * Lambda delivers platform.report only after the extension's next /next, so
 * every invocation's start and runtimeDone wait in the accumulator (spans
 * and metrics are built when the report arrives). Log lines are not buffered
 * (they leave as a payload per batch), so the worst case is platform events.
 *
 * Measured as the heap growth (after a full GC) with N invocations open,
 * divided by their events. Needs `--expose-gc`; when started without it, it
 * re-runs itself in a child process that has it.
 *
 * Run alone: `npx tsx bench/cases/telemetry-memory.ts [--quick]`.
 */
import { execFileSync } from 'node:child_process';
import { PlatformTelemetry } from '../../extension-src/platform/index.js';
import { invocationEvents } from './telemetry-events.js';

export const title = 'Platform telemetry: memory per 1,000 buffered Telemetry API events';

export const notes =
  'Heap growth after a full GC while invocations wait for their platform.report (start and runtimeDone held by the accumulator; log lines are not held). In practice one or two invocations are open at a time; open records are bounded at 1,000.';

export interface TelemetryMemoryResult {
  readonly case: string;
  readonly bufferedEvents: number;
  readonly heapBytes: number;
  readonly bytesPer1000Events: number;
}

function measure(openInvocations: number): TelemetryMemoryResult {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const t0 = Date.parse('2026-11-23T10:00:00.000Z');
  const batches = Array.from({ length: openInvocations }, (_, i) =>
    invocationEvents(i, t0).beforeNext.filter((e) => e.type.startsWith('platform.')),
  );
  const platform = new PlatformTelemetry({
    emit: () => {},
    resource: () => [],
    // Keep every invocation open: no grace expiry, room for all of them.
    maxOpen: openInvocations + 1,
    graceMs: 3_600_000,
    now: () => t0,
  });
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (const batch of batches) platform.handleEvents(batch);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (platform.stats().open !== openInvocations && platform.stats().invocations !== 0) {
    throw new Error('invocations completed early');
  }
  const bufferedEvents = openInvocations * 2;
  const heapBytes = after - before;
  // Keep the module alive until after the measurement.
  if (platform.stats().events !== bufferedEvents) throw new Error('events were lost');
  return {
    case: `${openInvocations} open invocations (start + runtimeDone each)`,
    bufferedEvents,
    heapBytes,
    bytesPer1000Events: Math.round((heapBytes / bufferedEvents) * 1000),
  };
}

export function run(options: { quick?: boolean } = {}): TelemetryMemoryResult[] {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    const args = ['--expose-gc', '--import', 'tsx', __filename, '--json', ...(options.quick ? ['--quick'] : [])];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
    return JSON.parse(out.trim().split('\n').at(-1) ?? '[]');
  }
  const sizes = options.quick ? [500] : [500, 1_000, 5_000];
  return sizes.map(measure);
}

if (require.main === module) {
  const results = run({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
  else {
    for (const r of results) {
      console.log(
        `${r.case}: ${r.bufferedEvents} events buffered, heap +${(r.heapBytes / 1024).toFixed(0)} KiB, ${(r.bytesPer1000Events / 1024).toFixed(0)} KiB per 1,000 events`,
      );
    }
  }
}
