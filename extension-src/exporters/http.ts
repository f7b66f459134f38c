/**
 * One HTTP request for exporters, over the engine-neutral client in io/
 * (keep-alive sockets for http:, reused across invocations; fetch for
 * https:), with a timeout that covers the whole exchange and a response body
 * capped for log lines and partial-success messages.
 *
 * A Lambda environment freezes between invocations; meanwhile the backend may
 * close an idle keep-alive socket, and the first request after the thaw then
 * fails with ECONNRESET/EPIPE. Such a failure on a reused socket is not the
 * backend's fault: it is retried once at once on a fresh socket, without
 * counting as a retry.
 */
import { HttpClient } from '../io/http-client.js';

export interface HttpResponse {
  readonly status: number;
  /** Lower-cased names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export interface HttpRequest {
  readonly method?: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly timeoutMs: number;
  /** Largest response body kept (default 64 KiB); the rest is read and discarded. */
  readonly maxResponseBytes?: number;
}

const client = new HttpClient(8);

const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function once(request: HttpRequest) {
  return client.exchange({
    method: request.method ?? 'POST',
    url: request.url,
    headers: request.headers,
    body: request.body,
    timeoutMs: request.timeoutMs,
    maxResponseBytes: request.maxResponseBytes ?? 64 * 1024,
  });
}

/** Sends one request; rejects on network errors and timeouts (after the stale-socket retry). */
export async function httpSend(request: HttpRequest): Promise<HttpResponse> {
  const started = Date.now();
  let result = await once(request);
  const code = result.error?.code;
  if (result.error && result.reusedSocket && code && STALE_SOCKET_CODES.has(code)) {
    const left = request.timeoutMs - (Date.now() - started);
    if (left > 0) result = await once({ ...request, timeoutMs: left });
  }
  if (result.response) return result.response;
  throw result.error ?? new Error('request failed');
}

/** Closes idle keep-alive sockets (at SHUTDOWN, so the process can exit at once). */
export function closeIdleSockets(): void {
  client.closeIdle();
}

/** A short description of a network error for log lines. */
export function describeError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code
    ? `${e.code}${e.message && !e.message.includes(e.code) ? ` (${e.message})` : ''}`
    : String(e?.message ?? e);
}
