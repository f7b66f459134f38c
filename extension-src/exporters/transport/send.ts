/**
 * One attempt at one HTTP request to a backend, told apart as delivered,
 * rejected (final) or retryable (with the server's Retry-After), by the
 * backend's classifier (./classify.ts). It runs on the exporters' HTTP client
 * (../http.ts), which works over either engine's I/O; ./retrying.ts repeats
 * it inside a deadline.
 */
import { version as packageVersion } from '../../../package.json';
import { describeError, type HttpResponse, httpSend } from '../http.js';
import type { AnswerClassifier } from './classify.js';

export interface HttpCall {
  /** Default POST. */
  readonly method?: string;
  readonly url: URL;
  readonly body?: Uint8Array;
  /** Made anew for each attempt (a SigV4 signature carries the time); when it throws, nothing is sent. */
  readonly headers: () => Promise<Record<string, string>> | Record<string, string>;
  /** Per attempt; the retrying wrapper caps it by the time left. */
  readonly timeoutMs: number;
  /** Largest answer body kept (default 4 KiB: enough for an error message). */
  readonly maxResponseBytes?: number;
}

export type Attempt =
  | { readonly outcome: 'delivered'; readonly response: HttpResponse }
  | { readonly outcome: 'rejected'; readonly status: number; readonly message: string }
  | {
      readonly outcome: 'retryable';
      readonly reason: string;
      readonly retryAfterMs?: number;
      /** No answer came after the connection was made (a timeout, a lost connection): the backend may have the data. */
      readonly unanswered?: boolean;
    };

/** Network errors that mean no connection was made, so the backend cannot have the request. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);

/** `observed-lambda/<version>`, the package version baked in at build time. */
export function userAgent(): string {
  return `observed-lambda/${packageVersion}`;
}

export async function send(
  call: HttpCall,
  classify: AnswerClassifier,
  timeoutMs = call.timeoutMs,
  now: () => number = Date.now,
): Promise<Attempt> {
  let headers: Record<string, string>;
  try {
    headers = await call.headers();
  } catch (error) {
    // Cannot sign (no credentials): no retry will help.
    return { outcome: 'rejected', status: 0, message: `request not sent: ${describeError(error)}` };
  }
  let response: HttpResponse;
  try {
    response = await httpSend({
      method: call.method ?? 'POST',
      url: call.url,
      headers,
      body: call.body,
      timeoutMs,
      maxResponseBytes: call.maxResponseBytes ?? 4096,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    return { outcome: 'retryable', reason: describeError(error), unanswered: !(code && NOT_CONNECTED.has(code)) };
  }
  const failed = response.status < 200 || response.status >= 300;
  const body = failed ? response.body.toString('utf8').trim() : '';
  const verdict = classify(response.status, body);
  if (verdict === 'delivered') return { outcome: 'delivered', response };
  const text = oneLine(body);
  if (verdict === 'rejected') return { outcome: 'rejected', status: response.status, message: text };
  return {
    outcome: 'retryable',
    reason: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    retryAfterMs: parseRetryAfter(response.headers['retry-after'], now()),
  };
}

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** An error answer for a log line: HTML or binary bodies kept readable, on one line, at most 300 characters. */
function oneLine(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .slice(0, 300)
    .replace(/[^\x20-\x7e]/g, '?');
}
