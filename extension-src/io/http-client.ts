/**
 * An HTTP/1.1 client: `http:` URLs over node:net with keep-alive sockets
 * (the Extensions and Telemetry APIs, loopback and plain backends), `https:`
 * through `fetch` (TLS is the engine's). Runs on Node.js and on engines
 * without node:http (LLRT) alike.
 *
 * One request per socket at a time; a socket whose answer was complete and
 * not marked `connection: close` goes back to an idle pool per host:port.
 * Idle sockets have no timeout (the environment freezes between
 * invocations); the caller learns that a request went out on a reused socket,
 * since a backend may have closed it meanwhile (see exporters/http.ts).
 */
import { connect, type Socket } from 'node:net';
import { errorCode } from './error-code.js';
import {
  asBuffer,
  BodyDecoder,
  findHeadEnd,
  framingOf,
  type HeaderFields,
  HttpWireError,
  headerLines,
  message,
  parseResponseHead,
  type ResponseHead,
} from './http-wire.js';

export interface ClientRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Time limit of the whole exchange; none when undefined (a long poll such as the Extensions API's /next). */
  readonly timeoutMs?: number;
  /** Largest response body kept; the rest is read and dropped (default: all of it). */
  readonly maxResponseBytes?: number;
}

export interface ClientResponse {
  readonly status: number;
  /** Lower-cased names; repeated fields joined with ", ". */
  readonly headers: HeaderFields;
  readonly body: Buffer;
}

export interface Exchange {
  readonly response?: ClientResponse;
  readonly error?: Error & { code?: string };
  /** The request went out on a kept-alive socket used before. */
  readonly reusedSocket: boolean;
}

/** Largest response head accepted. */
const MAX_RESPONSE_HEAD = 64 * 1024;

function codedError(message: string, code?: string): Error & { code?: string } {
  const error: Error & { code?: string } = new Error(message);
  if (code) error.code = code;
  return error;
}

export class HttpClient {
  private readonly idle = new Map<string, PooledSocket[]>();

  constructor(private readonly maxIdlePerHost = 8) {}

  /** Sends one request; never rejects (the outcome carries the error). */
  exchange(request: ClientRequest): Promise<Exchange> {
    if (request.url.protocol === 'https:') return fetchExchange(request);
    if (request.url.protocol !== 'http:') {
      return Promise.resolve({
        error: codedError(`unsupported URL scheme ${request.url.protocol}`),
        reusedSocket: false,
      });
    }
    return this.overSocket(request);
  }

  /** Sends one request; rejects on network errors and timeouts. */
  async send(request: ClientRequest): Promise<ClientResponse> {
    const outcome = await this.exchange(request);
    if (outcome.response) return outcome.response;
    throw outcome.error ?? new Error('request failed');
  }

  /** Closes every idle socket (at SHUTDOWN, so the process can exit at once). */
  closeIdle(): void {
    for (const sockets of this.idle.values()) for (const s of sockets) s.destroy();
    this.idle.clear();
  }

  private overSocket(request: ClientRequest): Promise<Exchange> {
    const host = request.url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(request.url.port || 80);
    const key = `${host}:${port}`;
    const pool = this.idle.get(key);
    let socket = pool?.pop();
    while (socket?.dead) socket = pool?.pop();
    const reused = socket !== undefined;
    const pooled = socket ?? new PooledSocket(connect(port, host), (s) => this.forget(key, s));
    let head: string;
    try {
      head = `${request.method} ${request.url.pathname}${request.url.search} HTTP/1.1\r\nhost: ${request.url.host}\r\n${headerLines(
        request.headers,
      )}`;
    } catch (error) {
      if (!reused) pooled.destroy();
      else pool?.push(pooled);
      return Promise.resolve({ error: error as Error, reusedSocket: false });
    }
    if (request.body !== undefined || request.method === 'POST' || request.method === 'PUT') {
      head += `content-length: ${request.body?.byteLength ?? 0}\r\n`;
    }
    head += '\r\n';
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (outcome: { response?: ClientResponse; error?: Error }, keep: boolean) => {
        clearTimeout(timer);
        if (keep) this.release(key, pooled);
        else pooled.destroy();
        resolve({ ...outcome, reusedSocket: reused });
      };
      if (request.timeoutMs !== undefined) {
        timer = setTimeout(
          () => pooled.abort(codedError(`no answer within ${request.timeoutMs} ms`, 'ETIMEDOUT')),
          request.timeoutMs,
        );
      }
      pooled.start(request.method === 'HEAD', request.maxResponseBytes ?? Number.POSITIVE_INFINITY, finish);
      pooled.write(message(head, request.body));
    });
  }

  private release(key: string, socket: PooledSocket): void {
    let pool = this.idle.get(key);
    if (!pool) {
      pool = [];
      this.idle.set(key, pool);
    }
    if (pool.length >= this.maxIdlePerHost) socket.destroy();
    else pool.push(socket);
  }

  private forget(key: string, socket: PooledSocket): void {
    const pool = this.idle.get(key);
    const at = pool?.indexOf(socket) ?? -1;
    if (pool && at >= 0) pool.splice(at, 1);
  }
}

type Finish = (outcome: { response?: ClientResponse; error?: Error }, keep: boolean) => void;

/** A socket with its listeners set once; each exchange on it reads one response. */
class PooledSocket {
  dead = false;
  private finish: Finish | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private head: ResponseHead | undefined;
  private body: BodyDecoder | undefined;
  private chunks: Buffer[] = [];
  private kept = 0;
  private limit = Number.POSITIVE_INFINITY;
  private headOnly = false;

  constructor(
    private readonly socket: Socket,
    private readonly onDead: (socket: PooledSocket) => void,
  ) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Uint8Array) => this.receive(asBuffer(chunk)));
    socket.on('error', (error: Error) => this.ended(error));
    socket.on('end', () => this.ended(undefined));
    socket.on('close', () => this.ended(undefined));
  }

  start(headOnly: boolean, limit: number, finish: Finish): void {
    this.finish = finish;
    this.headOnly = headOnly;
    this.limit = limit;
    this.pending = Buffer.alloc(0);
    this.head = undefined;
    this.body = undefined;
    this.chunks = [];
    this.kept = 0;
  }

  write(data: Buffer): void {
    if (this.dead) {
      this.complete({ error: codedError('socket closed', 'ECONNRESET') }, false);
      return;
    }
    this.socket.write(data);
  }

  abort(error: Error): void {
    this.complete({ error }, false);
  }

  destroy(): void {
    if (!this.dead) {
      this.dead = true;
      this.socket.destroy();
    }
    this.onDead(this);
  }

  private complete(outcome: { response?: ClientResponse; error?: Error }, keep: boolean): void {
    const finish = this.finish;
    this.finish = undefined;
    this.chunks = [];
    finish?.(outcome, keep && !this.dead);
  }

  private receive(chunk: Buffer): void {
    if (!this.finish) {
      // Bytes nobody asked for (or an idle socket the server answered into): the framing is lost.
      this.destroy();
      return;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      this.parse();
    } catch (error) {
      const wire = error instanceof HttpWireError ? error.message : String(error);
      this.complete({ error: codedError(`malformed response: ${wire}`, 'EPROTO') }, false);
    }
  }

  private parse(): void {
    while (this.finish && this.pending.length > 0) {
      if (!this.head) {
        const end = findHeadEnd(this.pending);
        if (end < 0) {
          if (this.pending.length > MAX_RESPONSE_HEAD) throw new HttpWireError(400, 'response head too large');
          return;
        }
        const head = parseResponseHead(this.pending.subarray(0, end - 4));
        this.pending = this.pending.subarray(end);
        if (head.status >= 100 && head.status < 200) continue; // interim answer (100 Continue); the final one follows
        this.head = head;
        const noBody = this.headOnly || head.status === 204 || head.status === 304;
        const framing = noBody ? { kind: 'length' as const, length: 0 } : framingOf(head.headers, true);
        this.body = new BodyDecoder(framing, (data) => this.bodyData(data));
      } else {
        const used = (this.body as BodyDecoder).feed(this.pending, 0);
        this.pending = this.pending.subarray(used);
      }
      if (this.body?.done) this.responseRead();
    }
  }

  private bodyData(data: Buffer): void {
    if (this.kept >= this.limit) return;
    const take = data.subarray(0, Math.min(data.length, this.limit - this.kept));
    this.kept += take.length;
    this.chunks.push(take);
  }

  private responseRead(): void {
    const head = this.head as ResponseHead;
    const connection = head.headers.connection?.toLowerCase() ?? '';
    const keep =
      this.pending.length === 0 &&
      (head.minorVersion === 1 ? !connection.includes('close') : connection.includes('keep-alive'));
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.head = undefined;
    this.body = undefined;
    this.complete({ response: { status: head.status, headers: head.headers, body } }, keep);
  }

  private ended(error: Error | undefined): void {
    const wasDead = this.dead;
    this.dead = true;
    if (!wasDead) this.onDead(this);
    if (!this.finish) return;
    if (!error && this.head && this.body?.end()) {
      this.responseRead();
      return;
    }
    const code = errorCode(error);
    this.complete(
      {
        error: error
          ? codedError(error.message, code)
          : codedError('connection closed before the answer', 'ECONNRESET'),
      },
      false,
    );
  }
}

async function fetchExchange(request: ClientRequest): Promise<Exchange> {
  const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    if (request.timeoutMs === undefined) return;
    timer = setTimeout(() => {
      const error = codedError(`no answer within ${request.timeoutMs} ms`, 'ETIMEDOUT');
      controller?.abort(error);
      reject(error);
    }, request.timeoutMs);
  });
  const headers: Record<string, string> = {};
  for (const name in request.headers)
    if (name.toLowerCase() !== 'content-length') headers[name] = request.headers[name];
  try {
    const exchange = (async () => {
      const res = await fetch(request.url, {
        method: request.method,
        headers,
        body: request.body as NonNullable<RequestInit['body']> | undefined,
        signal: controller?.signal,
      });
      const fields: HeaderFields = {};
      res.headers.forEach((value, name) => {
        fields[name.toLowerCase()] = value;
      });
      const all = Buffer.from(await res.arrayBuffer());
      const limit = request.maxResponseBytes ?? Number.POSITIVE_INFINITY;
      return { status: res.status, headers: fields, body: all.length > limit ? all.subarray(0, limit) : all };
    })();
    // Past the timeout the aborted fetch still rejects; nobody waits for it then.
    exchange.catch(() => undefined);
    const response = await Promise.race([exchange, timeout]);
    return { response, reusedSocket: false };
  } catch (error) {
    const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
    return {
      error: codedError(
        e.cause?.message ? `${e.message} (${e.cause.message})` : e.message,
        errorCode(e) ?? errorCode(e.cause),
      ),
      reusedSocket: false,
    };
  } finally {
    clearTimeout(timer);
  }
}
