/**
 * Telemetry API traffic shaped like Lambda's, for the platform benchmarks:
 * per invocation a platform.start, a platform.runtimeDone (with its
 * responseLatency and responseDuration spans), a platform.report, and a few
 * function log lines in Node's text format, delivered the way Lambda batches
 * them (the report one batch late).
 */
const iso = (ms: number) => new Date(ms).toISOString();

export const LOG_LINES_PER_INVOCATION = 3;
export const EVENTS_PER_INVOCATION = 3 + LOG_LINES_PER_INVOCATION;

export function requestId(i: number): string {
  const hex = i.toString(16).padStart(12, '0');
  return `6d68ca91-49c9-448d-89b8-${hex}`;
}

function traceHeader(i: number): string {
  const hex = i.toString(16).padStart(24, '0');
  return `Root=1-6942a1b0-${hex};Parent=${hex.slice(-16)};Sampled=1`;
}

/** The events Lambda sends for invocation i (which starts at t0 + i * 100 ms). */
export function invocationEvents(i: number, t0: number) {
  const t = t0 + i * 100;
  const id = requestId(i);
  const tracing = { type: 'X-Amzn-Trace-Id', value: traceHeader(i) };
  const logs = Array.from({ length: LOG_LINES_PER_INVOCATION }, (_, n) => ({
    time: iso(t + 1 + n),
    type: 'function',
    record: `${iso(t + 1 + n)}\t${id}\tINFO\tprocessed item ${n} of order ${i}\n`,
  }));
  return {
    beforeNext: [
      { time: iso(t), type: 'platform.start', record: { requestId: id, version: '$LATEST', tracing } },
      ...logs,
      {
        time: iso(t + 12),
        type: 'platform.runtimeDone',
        record: {
          requestId: id,
          status: 'success',
          tracing,
          spans: [
            { name: 'responseLatency', start: iso(t + 10), durationMs: 1.2 },
            { name: 'responseDuration', start: iso(t + 11.2), durationMs: 0.3 },
          ],
          metrics: { durationMs: 12.1, producedBytes: 120 },
        },
      },
    ],
    afterNext: [
      {
        time: iso(t + 13),
        type: 'platform.report',
        record: {
          requestId: id,
          status: 'success',
          tracing,
          metrics: { durationMs: 13.4, billedDurationMs: 14, memorySizeMB: 1024, maxMemoryUsedMB: 88 },
        },
      },
    ],
  };
}
