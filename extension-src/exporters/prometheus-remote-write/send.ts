/**
 * One HTTP request with retries inside a deadline: network errors, 5xx and 429
 * are retried with jittered exponential backoff (or the server's Retry-After);
 * other statuses are final. Uses node:http(s) with keep-alive agents (cheaper
 * to load than fetch, and sockets are reused across invocations).
 *
 * Also used by the Pushgateway exporter.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { version as packageVersion } from '../../../package.json';

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
  | { readonly outcome: 'deferred'; readonly reason: string; readonly attempts: number };

export interface RetryPolicy {
  /** Per attempt, capped by the time left before the deadline. */
  readonly timeoutMs: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { timeoutMs: 5_000, initialBackoffMs: 100, maxBackoffMs: 5_000 };

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 4 });

interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function once(call: HttpCall, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const https = call.url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      call.url,
      {
        method: call.method,
        headers: call.body ? { ...headers, 'content-length': String(call.body.byteLength) } : headers,
        agent: https ? httpsAgent : httpAgent,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // Error bodies are for log lines; keep the first few kilobytes.
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(call.body);
  });
}

/** Milliseconds the server asked to wait (Retry-After: seconds or an HTTP date), if any. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

export async function sendWithRetry(
  call: HttpCall,
  deadlineMs: number,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry: (reason: string) => void = () => {},
): Promise<SendResult> {
  let backoff = policy.initialBackoffMs;
  for (let attempt = 1; ; attempt++) {
    const left = deadlineMs - Date.now();
    if (left <= 0) return { outcome: 'deferred', reason: 'flush deadline reached', attempts: attempt - 1 };
    let reason: string;
    let serverDelay: number | undefined;
    try {
      const res = await once(call, await call.headers(), Math.min(policy.timeoutMs, left));
      if (res.status >= 200 && res.status < 300) return { outcome: 'delivered', status: res.status, attempts: attempt };
      if (!isRetryable(res.status)) {
        return { outcome: 'rejected', status: res.status, message: res.body.trim().slice(0, 300), attempts: attempt };
      }
      reason = `HTTP ${res.status}${res.body ? `: ${res.body.trim().slice(0, 200)}` : ''}`;
      serverDelay = retryAfterMs(res.headers['retry-after']);
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    // Jitter keeps environments that failed together from retrying in step.
    const delay = serverDelay ?? Math.round(backoff / 2 + (Math.random() * backoff) / 2);
    backoff = Math.min(backoff * 2, policy.maxBackoffMs);
    if (Date.now() + delay >= deadlineMs) return { outcome: 'deferred', reason, attempts: attempt };
    onRetry(reason);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** `observed-lambda/<version>`, the package version baked in at build time. */
export function userAgent(): string {
  return `observed-lambda/${packageVersion}`;
}
