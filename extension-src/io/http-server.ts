/**
 * An HTTP/1.1 server over node:net, for engines without node:http (LLRT) and
 * for Node.js alike, so both run one code path. It serves the function's
 * OTLP/HTTP requests and the Telemetry API's deliveries, so it faces input
 * from the function: every limit is enforced while reading.
 *
 * - Requests on one connection are taken strictly in order: the next request
 *   is not parsed until the previous one is answered (pipelining keeps its
 *   order by construction).
 * - Content-Length and chunked bodies; a body over the route's limit is
 *   answered 413 at once and the rest of it read and dropped (up to
 *   `discardMaxBytes`, past which the connection is closed), so the
 *   connection stays usable.
 * - A head over `maxHeaderBytes` is answered 431, a malformed one 400, an
 *   unknown transfer coding 501; then the connection is closed (its framing
 *   cannot be trusted).
 * - Keep-alive connections are never timed out while idle: the environment
 *   freezes between invocations, and an idle timeout firing at the thaw would
 *   close a socket the function's SDK is about to reuse. Only a request that
 *   started and does not finish within `requestTimeoutMs` is answered 408.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  asBuffer,
  BodyDecoder,
  findHeadEnd,
  framingOf,
  HttpWireError,
  headerLines,
  message,
  parseRequestHead,
  type RequestHead,
  reasonPhrase,
} from './http-wire.js';

export type { RequestHead } from './http-wire.js';

export interface Reply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** What to do with a request, decided from its head. */
export type Route =
  /** Answer without reading the body (it is read and dropped). */
  | { readonly reply: Reply }
  | {
      /** Largest body taken; beyond it the request is answered with `tooLarge`. */
      readonly maxBodyBytes: number;
      readonly tooLarge: (limit: number, declared: number | undefined) => Reply;
      /** Called with the whole body; a throw or rejection is answered 500. */
      readonly handle: (body: Buffer) => Reply | Promise<Reply>;
    };

export interface HttpServerOptions {
  readonly route: (head: RequestHead) => Route;
  /** Default 16 KiB (as node:http). */
  readonly maxHeaderBytes?: number;
  /** Body bytes of a refused request read and dropped to keep the connection (default 64 MiB). */
  readonly discardMaxBytes?: number;
  /** A request must arrive whole within this time from its first byte (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** A handler threw (answered 500). */
  readonly onError?: (error: unknown) => void;
}

export class HttpServer {
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private boundPort: number | undefined;

  constructor(readonly options: HttpServerOptions) {}

  /** The port listened on, once listening. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /** Listens on host:port (0 for any free port); rejects with the listen error (its `code`, e.g. EADDRINUSE, when the engine gives one). */
  listen(port: number, host: string): Promise<number> {
    // Half-open: a client that ends its side after writing still gets its answers.
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      const connection = new Connection(socket, this.options, () => this.connections.delete(connection));
      this.connections.add(connection);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        server.on('error', (error) => this.options.onError?.(error));
        this.server = server;
        this.boundPort = (server.address() as { port: number } | null)?.port ?? port;
        resolve(this.boundPort);
      });
    });
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}

const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Data that arrives while a request is being handled is held; past this the socket is paused. */
const HOLD_HIGH_WATER = 1024 * 1024;

/** One client connection: reads requests one after another, answers each before reading the next. */
class Connection {
  /** Bytes received but not yet parsed. */
  private pending: Buffer = Buffer.alloc(0);
  private head: RequestHead | undefined;
  private body: BodyDecoder | undefined;
  private chunks: Buffer[] = [];
  /** The body is read and dropped (refused request): its answer is already written. */
  private discarding = false;
  private route: Route | undefined;
  private busy = false;
  private closed = false;
  private paused = false;
  /** The client half-closed: answer what it sent, then close. */
  private peerDone = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly maxHeaderBytes: number;
  private readonly discardMaxBytes: number;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly socket: Socket,
    private readonly options: HttpServerOptions,
    private readonly onClose: () => void,
  ) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.discardMaxBytes = options.discardMaxBytes ?? DEFAULT_DISCARD_MAX_BYTES;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Uint8Array) => this.receive(asBuffer(chunk)));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('end', () => this.peerEnded());
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.pending = Buffer.alloc(0);
    this.chunks = [];
    this.socket.destroy();
    this.onClose();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.busy) {
      if (this.pending.length > HOLD_HIGH_WATER && !this.paused) {
        this.paused = true;
        this.socket.pause?.();
      }
      return;
    }
    this.parse();
  }

  /** Parses and dispatches as much of `pending` as it can, until a request is being handled. */
  private parse(): void {
    try {
      while (!this.closed && !this.busy && this.pending.length > 0) {
        if (!this.head) {
          if (!this.readHead()) break;
        } else {
          this.readBody();
        }
      }
    } catch (error) {
      if (error instanceof HttpWireError) this.fail(error.status, error.message);
      else throw error;
    }
    if (this.closed || this.busy) return;
    if (this.peerDone) this.peerEnded();
    // Only a request cut off mid-way has a time limit; requests that arrive whole never arm a timer.
    else if ((this.head || this.pending.length > 0) && this.timer === undefined) this.startTimer();
  }

  private readHead(): boolean {
    const end = findHeadEnd(this.pending);
    if (end < 0) {
      if (this.pending.length > this.maxHeaderBytes) {
        this.fail(431, `request head larger than ${this.maxHeaderBytes} bytes`);
      }
      return false;
    }
    if (end > this.maxHeaderBytes) {
      this.fail(431, `request head larger than ${this.maxHeaderBytes} bytes`);
      return false;
    }
    const head = parseRequestHead(this.pending.subarray(0, end - 4));
    this.pending = this.pending.subarray(end);
    const framing = framingOf(head.headers, false);
    this.head = head;
    this.chunks = [];
    this.discarding = false;
    this.body = new BodyDecoder(framing, (data) => this.bodyData(data));
    const route = this.options.route(head);
    this.route = route;
    if ('reply' in route) {
      this.refuse(route.reply);
    } else {
      const declared = this.body.declaredLength;
      if (declared !== undefined && declared > route.maxBodyBytes) {
        this.refuse(route.tooLarge(route.maxBodyBytes, declared));
      } else if (head.headers.expect?.toLowerCase() === '100-continue' && !this.body.done) {
        this.socket.write(`HTTP/1.1 100 ${reasonPhrase(100)}\r\n\r\n`);
      }
    }
    if (!this.closed && this.body.done) this.requestRead();
    return true;
  }

  private readBody(): void {
    const body = this.body as BodyDecoder;
    const used = body.feed(this.pending, 0);
    this.pending = this.pending.subarray(used);
    if (!this.closed && body.done) this.requestRead();
  }

  private bodyData(data: Buffer): void {
    const route = this.route as Route;
    const body = this.body as BodyDecoder;
    if (this.discarding) {
      if (body.received > this.discardMaxBytes) this.close();
      return;
    }
    if ('handle' in route && body.received > route.maxBodyBytes) {
      this.chunks = [];
      this.refuse(route.tooLarge(route.maxBodyBytes, undefined));
      return;
    }
    this.chunks.push(data);
  }

  /** Answers a request whose body is not taken; the body is then read and dropped. */
  private refuse(reply: Reply): void {
    const body = this.body as BodyDecoder;
    const declared = body.declaredLength;
    // A body too large to read and drop: answer, then close (the client may see a reset while still writing).
    const closeAfter = declared !== undefined && declared > this.discardMaxBytes;
    this.discarding = true;
    this.write(reply, closeAfter);
    if (closeAfter) this.close();
  }

  /** The whole request (head and body) has been read. */
  private requestRead(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const head = this.head as RequestHead;
    const route = this.route as Route;
    const chunks = this.chunks;
    this.head = undefined;
    this.body = undefined;
    this.chunks = [];
    if (this.discarding || 'reply' in route) {
      this.discarding = false;
      if (this.wantsClose(head)) this.close();
      return;
    }
    this.busy = true;
    const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    let answer: Reply | Promise<Reply>;
    try {
      answer = route.handle(whole);
    } catch (error) {
      answer = this.internalError(error);
    }
    if (answer instanceof Promise) {
      answer.then(
        (reply) => this.answered(head, reply),
        (error: unknown) => this.answered(head, this.internalError(error)),
      );
    } else {
      this.answered(head, answer);
    }
  }

  private internalError(error: unknown): Reply {
    this.options.onError?.(error);
    return {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from('internal error\n'),
    };
  }

  private answered(head: RequestHead, reply: Reply): void {
    this.busy = false;
    if (this.closed) return;
    const close = this.wantsClose(head);
    this.write(reply, close, head.method === 'HEAD');
    if (close) {
      this.close();
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.socket.resume?.();
    }
    if (this.pending.length > 0 || this.peerDone) this.parse();
  }

  private wantsClose(head: RequestHead): boolean {
    const connection = head.headers.connection?.toLowerCase() ?? '';
    return head.minorVersion === 0 ? !connection.includes('keep-alive') : connection.includes('close');
  }

  private write(reply: Reply, close: boolean, headOnly = false): void {
    if (this.closed) return;
    let head = `HTTP/1.1 ${reply.status} ${reasonPhrase(reply.status)}\r\n`;
    try {
      head += headerLines(reply.headers ?? {});
    } catch (error) {
      this.options.onError?.(error);
      head = `HTTP/1.1 500 ${reasonPhrase(500)}\r\n`;
      reply = { status: 500 };
    }
    const body = reply.body;
    if (reply.status !== 204 && reply.status !== 304) head += `content-length: ${body?.byteLength ?? 0}\r\n`;
    if (close) head += 'connection: close\r\n';
    head += '\r\n';
    this.socket.write(message(head, headOnly ? undefined : body));
  }

  /** A request the connection cannot recover from: answer and close. */
  private fail(status: number, reason: string): void {
    if (this.closed) return;
    const body = Buffer.from(`${reason}\n`);
    this.write({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body }, true);
    this.close();
  }

  /** Ends the connection once what was written has gone out. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.pending = Buffer.alloc(0);
    this.chunks = [];
    this.socket.end();
    this.onClose();
  }

  private peerEnded(): void {
    // A half-closed client gets the answers to what it sent; a body cut short by the end is dropped.
    this.peerDone = true;
    if (this.busy || this.closed) return;
    if (this.body && !this.body.end()) {
      this.fail(400, 'connection ended inside a request');
      return;
    }
    this.close();
  }

  private startTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.busy) return;
      this.fail(408, `request not complete within ${this.requestTimeoutMs} ms`);
    }, this.requestTimeoutMs);
    (this.timer as { unref?: () => void }).unref?.();
  }
}
