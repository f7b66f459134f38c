/**
 * One HTTP request for exporters: node:http(s) with keep-alive agents (sockets
 * are reused across invocations; cheaper to load than fetch), a timeout that
 * covers the whole exchange, and a response body capped for log lines and
 * partial-success messages.
 *
 * A Lambda environment freezes between invocations; meanwhile the backend may
 * close an idle keep-alive socket, and the first request after the thaw then
 * fails with ECONNRESET/EPIPE. Such a failure on a reused socket is not the
 * backend's fault: it is retried once at once on a fresh socket, without
 * counting as a retry.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type * as Https from 'node:https';

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
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

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 8 });

/** node:https (TLS, crypto) is loaded on the first https request: it costs start-up time when unused. */
let https: { module: typeof Https; agent: Https.Agent } | undefined;
function httpsClient() {
  if (!https) {
    const module = require('node:https') as typeof Https;
    https = { module, agent: new module.Agent({ keepAlive: true, maxSockets: 8 }) };
  }
  return https;
}

const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function once(request: HttpRequest): Promise<{ response?: HttpResponse; error?: Error; reusedSocket: boolean }> {
  return new Promise((resolve) => {
    const tls = request.url.protocol === 'https:' ? httpsClient() : undefined;
    const limit = request.maxResponseBytes ?? 64 * 1024;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body) headers['content-length'] = String(request.body.byteLength);
    let settled = false;
    const settle = (value: { response?: HttpResponse; error?: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...value, reusedSocket: req.reusedSocket });
    };
    const req = (tls ? tls.module.request : httpRequest)(
      request.url,
      { method: request.method ?? 'POST', headers, agent: tls ? tls.agent : httpAgent },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < limit) chunks.push(chunk.subarray(0, limit - size));
          size += chunk.length;
        });
        res.on('end', () =>
          settle({ response: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) } }),
        );
        res.on('error', (error) => settle({ error }));
      },
    );
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${request.timeoutMs} ms`);
      settle({ error });
      req.destroy(error);
    }, request.timeoutMs);
    req.on('error', (error) => settle({ error }));
    req.end(request.body);
  });
}

/** Sends one request; rejects on network errors and timeouts (after the stale-socket retry). */
export async function httpSend(request: HttpRequest): Promise<HttpResponse> {
  const started = Date.now();
  let result = await once(request);
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  if (result.error && result.reusedSocket && code && STALE_SOCKET_CODES.has(code)) {
    const left = request.timeoutMs - (Date.now() - started);
    if (left > 0) result = await once({ ...request, timeoutMs: left });
  }
  if (result.response) return result.response;
  throw result.error ?? new Error('request failed');
}

/** Closes idle keep-alive sockets (at SHUTDOWN, so the process can exit at once). */
export function closeIdleSockets(): void {
  httpAgent.destroy();
  https?.agent.destroy();
}

/** A short description of a network error for log lines. */
export function describeError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e?.code
    ? `${e.code}${e.message && !e.message.includes(e.code) ? ` (${e.message})` : ''}`
    : String(e?.message ?? e);
}
