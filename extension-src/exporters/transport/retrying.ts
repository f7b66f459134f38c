/**
 * The one place a retry is decided: `sendWithRetry` repeats an attempt
 * (./send.ts) with jittered exponential backoff inside a deadline, for every
 * exporter.
 *
 * The rules:
 * - only what the backend's classifier calls retryable is retried (network
 *   errors, and per protocol: ./classify.ts);
 * - the wait grows exponentially from `initialMs` to `maxMs`, and each wait is
 *   drawn from [d/2, d] ("equal jitter") so environments that failed together
 *   do not retry in step;
 * - a server's Retry-After (seconds or an HTTP date) replaces the computed wait;
 * - nothing waits past the deadline: when the next attempt could not start
 *   before it, the call returns `deferred` and the data stays queued for the
 *   next flush; `notBeforeMs` carries a Retry-After that reaches past it.
 *
 * `BackendHealth` adds one more rule for Lambda: when a backend stays down,
 * each invocation's flush would spend its whole deadline retrying. After a
 * flush that ended deferred, the backend is "cooling down": flushes before
 * the cool-down ends skip it (data stays queued), and the first one after it
 * makes a single attempt. The cool-down doubles with each failed probe up to
 * a cap, and a success clears it. The final flush at SHUTDOWN ignores it.
 */
import type { HttpResponse } from '../http.js';
import type { AnswerClassifier } from './classify.js';
import { type HttpCall, send } from './send.js';

export interface RetryPolicy {
  /** First wait, before jitter. */
  readonly initialMs: number;
  /** Largest wait, before jitter. */
  readonly maxMs: number;
  /** At most this many attempts per call (default: as many as the deadline allows). */
  readonly maxAttempts?: number;
  /** An attempt is not started with less time than this left (default 5 ms). */
  readonly minAttemptMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, maxMs: 5_000 };

/** The jittered wait before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy = DEFAULT_RETRY, random = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export type AttemptResult<T> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number; readonly unanswered?: boolean };

export const done = <T>(value: T): AttemptResult<T> => ({ kind: 'done', value });
export const retry = <T = never>(reason: string, retryAfterMs?: number, unanswered?: boolean): AttemptResult<T> => ({
  kind: 'retry',
  reason,
  retryAfterMs,
  unanswered,
});

/** No attempt delivered before the deadline: the data stays queued for the next flush. */
export interface Deferred {
  readonly outcome: 'deferred';
  readonly reason: string;
  readonly attempts: number;
  /** The server asked not to be called before this time (Retry-After beyond the deadline). */
  readonly notBeforeMs?: number;
  /** An attempt got no answer after the request went out: the backend may have stored the data. */
  readonly unanswered?: boolean;
}

export type RetryOutcome<T> = { readonly outcome: 'done'; readonly value: T; readonly attempts: number } | Deferred;

export interface RetryHooks {
  /** Called before each retry's wait, with the reason of the failure. */
  readonly onRetry?: (reason: string, attempt: number) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it is done, or until no further attempt fits before
 * `deadlineMs` (epoch ms). Never rejects unless `attempt` does.
 */
export async function retryWithin<T>(
  deadlineMs: number,
  policy: RetryPolicy,
  attempt: (attempt: number, timeLeftMs: number) => Promise<AttemptResult<T>>,
  hooks: RetryHooks = {},
): Promise<RetryOutcome<T>> {
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? defaultSleep;
  const minAttemptMs = policy.minAttemptMs ?? 5;
  const maxAttempts = policy.maxAttempts ?? Number.POSITIVE_INFINITY;
  let reason = 'flush deadline reached before the first attempt';
  let unanswered = false;
  for (let n = 1; ; n++) {
    const left = deadlineMs - now();
    if (left < minAttemptMs) return { outcome: 'deferred', reason, attempts: n - 1, unanswered };
    const result = await attempt(n, left);
    if (result.kind === 'done') return { outcome: 'done', value: result.value, attempts: n };
    reason = result.reason;
    unanswered ||= result.unanswered === true;
    const wait = result.retryAfterMs ?? backoffDelay(n, policy, hooks.random);
    if (n >= maxAttempts || now() + wait + minAttemptMs > deadlineMs) {
      const notBeforeMs = result.retryAfterMs === undefined ? undefined : now() + result.retryAfterMs;
      return { outcome: 'deferred', reason, attempts: n, notBeforeMs, unanswered };
    }
    hooks.onRetry?.(reason, n);
    await sleep(wait);
  }
}

export type SendResult =
  | { readonly outcome: 'delivered'; readonly response: HttpResponse; readonly attempts: number }
  | { readonly outcome: 'rejected'; readonly status: number; readonly message: string; readonly attempts: number }
  | Deferred;

/** Sends `call` until it is delivered or rejected, or no further attempt fits before `deadlineMs`. */
export async function sendWithRetry(
  call: HttpCall,
  classify: AnswerClassifier,
  deadlineMs: number,
  policy: RetryPolicy = DEFAULT_RETRY,
  hooks: RetryHooks = {},
): Promise<SendResult> {
  const now = hooks.now ?? Date.now;
  const outcome = await retryWithin(
    deadlineMs,
    policy,
    async (_attempt, timeLeftMs) => {
      const attempt = await send(call, classify, Math.min(call.timeoutMs, timeLeftMs), now);
      return attempt.outcome === 'retryable'
        ? retry(attempt.reason, attempt.retryAfterMs, attempt.unanswered)
        : done(attempt);
    },
    hooks,
  );
  if (outcome.outcome === 'deferred') return outcome;
  return { ...outcome.value, attempts: outcome.attempts };
}

/** Cool-down bookkeeping for one backend (see the module comment). */
export class BackendHealth {
  private failures = 0;
  private blockedUntil = 0;

  constructor(
    private readonly baseCooldownMs = 1_000,
    private readonly maxCooldownMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a (non-final) flush should skip this backend now. */
  coolingDown(): boolean {
    return this.now() < this.blockedUntil;
  }

  /** Attempts the next flush may make: one probe after failures, else as many as fit. */
  attemptsAllowed(): number | undefined {
    return this.failures > 0 ? 1 : undefined;
  }

  succeeded(): void {
    this.failures = 0;
    this.blockedUntil = 0;
  }

  /** After a flush that left data queued because the backend failed; `notBeforeMs` from Retry-After. */
  failed(notBeforeMs?: number): void {
    this.failures++;
    const cooldown = Math.min(this.maxCooldownMs, this.baseCooldownMs * 2 ** (this.failures - 1));
    this.blockedUntil = Math.max(this.now() + cooldown, notBeforeMs ?? 0);
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
