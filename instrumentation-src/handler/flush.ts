/**
 * The end-of-invocation flush: traces, metrics and logs are exported to the
 * extension before the handler's result goes back to the runtime, because
 * Lambda may freeze the environment right after. An export to the extension
 * on this host is done once its bytes are in the kernel (the extension reads
 * them while the function is frozen; its answer is read later, see
 * ../loopback/); an export elsewhere waits for the answer, as the SDK's
 * exporters do. The wait is bounded by the configured flush timeout and by
 * the invocation's remaining time, so telemetry never makes an invocation
 * time out.
 *
 * Writes to the extension are held while the SDK exports, and what follows
 * the exports (the flushed notice) is queued behind them: one write hands the
 * invocation's exports and notice to the kernel together.
 */
import { describeError, warnOnce } from '../log.js';
import { holdLoopbackWrites } from '../loopback/connection.js';
import type { Telemetry } from '../sdk/start.js';
import type { LambdaContext } from './lambda-types.js';

export type FlushOutcome = 'flushed' | 'timed-out' | 'skipped';

/** Time kept back for the runtime to post the response after the flush. */
const RESERVED_MS = 50;
/** Below this, a flush cannot finish anyway; leave it to a later invocation or the shutdown. */
const MINIMUM_BUDGET_MS = 10;

export function flushBudgetMs(flushTimeoutMs: number, lambdaContext: LambdaContext | undefined): number {
  let remaining = Number.POSITIVE_INFINITY;
  try {
    const value = lambdaContext?.getRemainingTimeInMillis?.();
    if (typeof value === 'number' && Number.isFinite(value)) remaining = value;
  } catch {
    // A context without a usable clock: the configured timeout alone bounds the flush.
  }
  return Math.min(flushTimeoutMs, remaining - RESERVED_MS);
}

/**
 * Flushes the SDK's providers within `budgetMs`; once they are flushed, `afterExports` may queue
 * what must follow the exports (the flushed notice). Resolves once everything is written (to the
 * extension: in the kernel) or the budget is spent.
 */
export async function flushTelemetry(
  telemetry: Telemetry,
  budgetMs: number,
  afterExports?: () => unknown,
): Promise<FlushOutcome> {
  const { tracerProvider, meterProvider, loggerProvider } = telemetry;
  if ((!tracerProvider && !meterProvider && !loggerProvider) || budgetMs < MINIMUM_BUDGET_MS) return 'skipped';
  // Metrics only when something was recorded since the last flush (see sdk/metric-activity.ts).
  const metricsActive = meterProvider !== undefined && (telemetry.metricsActive?.() ?? true);
  const providers = [tracerProvider, metricsActive ? meterProvider : undefined, loggerProvider].filter(
    (p) => p !== undefined,
  );
  const deadline = Math.floor(budgetMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), deadline);
  });
  const release = holdLoopbackWrites();
  try {
    // forceFlush settles even when an export fails (the SDK reports export errors itself).
    const flushed = Promise.allSettled(providers.map((p) => p.forceFlush({ timeoutMillis: deadline }))).then(
      () => 'flushed' as const,
    );
    let outcome: FlushOutcome = await Promise.race([flushed, timedOut]);
    if (outcome === 'flushed') await afterExports?.();
    const written = await Promise.race([release(), timedOut]);
    if (written === 'timed-out') {
      outcome = written;
    } else if (!written.ok) {
      warnOnce('flush-write', `telemetry could not be written to the extension: ${describeError(written.error)}`);
    }
    return outcome;
  } finally {
    // Never left on: an export still running after a timeout is written as soon as it is sent.
    void release();
    clearTimeout(timer);
  }
}
