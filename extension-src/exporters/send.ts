/**
 * One HTTP exchange with retries inside the flush deadline, for the remote
 * write and Pushgateway exporters, on the shared exporter HTTP client and
 * retry rules (http.ts, retry.ts). What differs from OTLP: every 5xx
 * is retryable, as remote write 1.0 specifies, and so is 429.
 */
import { version as packageVersion } from '../../package.json';
import { describeError, httpSend } from './http.js';
import { done, parseRetryAfter, retry, retryWithin } from './retry.js';

export interface HttpCall {
  readonly method: string;
  readonly url: URL;
  readonly body?: Uint8Array;
  /** Called before every attempt (SigV4 signatures carry the time). */
  readonly headers: () => Promise<Record<string, string>> | Record<string, string>;
}

export type SendResult =
  | { readonly outcome: 'delivered'; readonly status: number; readonly attempts: number }
  | { readonly outcome: 'rejected'; readonly status: number; readonly message: string; readonly attempts: number }
  | {
      readonly outcome: 'deferred';
      readonly reason: string;
      readonly attempts: number;
      /** The server asked not to be called before this time (Retry-After past the deadline). */
      readonly notBeforeMs?: number;
    };

export interface RetryPolicy {
  /** Per attempt, capped by the time left before the deadline. */
  readonly timeoutMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { timeoutMs: 5_000, initialBackoffMs: 100, maxBackoffMs: 5_000 };

/** Remote write 1.0: retry 5xx; 429 too (Prometheus does with retry_on_http_429); other 4xx are final. */
export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** `observed-lambda/<version>`, the package version baked in at build time. */
export function userAgent(): string {
  return `observed-lambda/${packageVersion}`;
}

type Final = { delivered: true; status: number } | { delivered: false; status: number; message: string };

/** Whether an answer is retried as it is; the default reads the status alone. */
export type RetryableAnswer = (status: number, body: string) => boolean;

export async function sendWithRetry(
  call: HttpCall,
  deadlineMs: number,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry: (reason: string) => void = () => {},
  maxAttempts?: number,
  retryable: RetryableAnswer = isRetryable,
): Promise<SendResult> {
  const outcome = await retryWithin<Final>(
    deadlineMs,
    { initialMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs, maxAttempts },
    async (_attempt, timeLeftMs) => {
      let headers: Record<string, string>;
      try {
        headers = await call.headers();
      } catch (error) {
        // Cannot sign (no credentials): no retry will help.
        return done({ delivered: false, status: 0, message: `request not sent: ${describeError(error)}` });
      }
      try {
        const res = await httpSend({
          method: call.method,
          url: call.url,
          headers,
          body: call.body,
          timeoutMs: Math.min(policy.timeoutMs, timeLeftMs),
          maxResponseBytes: 4096,
        });
        if (res.status >= 200 && res.status < 300) return done({ delivered: true, status: res.status });
        const text = res.body.toString('utf8').trim();
        if (retryable(res.status, text)) {
          return retry(
            `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
            parseRetryAfter(res.headers['retry-after']),
          );
        }
        return done({ delivered: false, status: res.status, message: text.slice(0, 300) });
      } catch (error) {
        return retry(describeError(error));
      }
    },
    { onRetry: (reason) => onRetry(reason) },
  );
  if (outcome.outcome === 'deferred') {
    return {
      outcome: 'deferred',
      reason: outcome.reason,
      attempts: outcome.attempts,
      notBeforeMs: outcome.notBeforeMs,
    };
  }
  const value = outcome.value;
  if (value.delivered) return { outcome: 'delivered', status: value.status, attempts: outcome.attempts };
  return { outcome: 'rejected', status: value.status, message: value.message, attempts: outcome.attempts };
}
