/**
 * Epoch milliseconds with sub-millisecond precision, for the invocation timeline: Lambda reports
 * durations in fractions of a millisecond (runtimeDone's and platform.report's durationMs, the
 * REPORT line), and a warm invocation lasts a few of them. Monotonic within the process.
 */
export function preciseNowMs(): number {
  return performance.timeOrigin + performance.now();
}
