/**
 * One kept-alive HTTP/1.1 connection to a server on this host (the
 * extension's receiver), for what the instrumentation sends on every
 * invocation: OTLP exports and the flushed notice. node:http's client costs a
 * few hundred microseconds of CPU a request (agent, parser, streams) and is
 * what the http instrumentation patches; a plain `net` socket with a
 * hand-written request and a small answer parser costs a fraction of that and
 * stays out of the instrumentation's sight.
 *
 * Requests go one at a time, in order (no pipelining). An answer is read by
 * its content-length or chunked body (what node:http servers send), or up to
 * the close. Anything unexpected, a timeout, an answer other than 2xx or one
 * that says `connection: close` ends the socket; the next request connects
 * again. A kept socket found closed before any answer (the server may have
 * closed it while idle) is replaced once within the same request. `send`
 * never rejects.
 */
import { connect, type Socket } from 'node:net';

export type Answer =
  | {
      readonly ok: true;
      readonly status: number;
      readonly reason: string;
      /** The header block, lower-cased, one `name: value` a line. */
      readonly headers: string;
      readonly body: Buffer;
    }
  | { readonly ok: false; readonly error: Error };

/** Longest answer read (as the SDK's own transport): past it the request fails. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

interface Request {
  readonly head: string;
  readonly body: Uint8Array | undefined;
  readonly resolve: (answer: Answer) => void;
  timer: NodeJS.Timeout | undefined;
  /** Whether the request went out on a socket kept from an earlier request. */
  reused: boolean;
  retried: boolean;
  received: Buffer | undefined;
}

export class LoopbackConnection {
  private socket: Socket | undefined;
  /** The error that is about to close the socket (refused, reset), for the request it fails. */
  private lastError: Error | undefined;
  private current: Request | undefined;
  private readonly queue: Request[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  /**
   * Sends one request: `head` is the request line and headers, ending with the blank line; `body`
   * follows as is. Resolves with the answer, or with the error (refused, reset, timed out, malformed).
   */
  send(head: string, body: Uint8Array | undefined, timeoutMs: number): Promise<Answer> {
    return new Promise<Answer>((resolve) => {
      const request: Request = {
        head,
        body,
        resolve,
        timer: undefined,
        reused: false,
        retried: false,
        received: undefined,
      };
      request.timer = setTimeout(() => this.timeOut(request), Math.max(1, Math.floor(timeoutMs)));
      this.queue.push(request);
      if (!this.current) this.next();
    });
  }

  /** Closes the socket (pending requests fail). */
  close(): void {
    this.socket?.destroy();
  }

  private next(): void {
    const request = this.queue.shift();
    this.current = request;
    if (!request) {
      // An idle kept socket must not keep the process alive.
      this.socket?.unref();
      return;
    }
    let socket = this.socket?.destroyed ? undefined : this.socket;
    request.reused = socket !== undefined;
    request.received = undefined;
    if (!socket) socket = this.open();
    socket.ref();
    socket.cork();
    socket.write(request.head);
    if (request.body && request.body.length > 0) socket.write(request.body);
    socket.uncork();
  }

  private open(): Socket {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    // Errors are followed by 'close', which settles the request; without a listener they would be uncaught.
    socket.on('error', (error) => {
      if (socket === this.socket) this.lastError = error;
    });
    socket.on('close', () => this.onClose(socket));
    this.socket = socket;
    this.lastError = undefined;
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    const request = this.current;
    if (socket !== this.socket || !request) {
      // Bytes nobody asked for: the connection is out of step.
      socket.destroy();
      return;
    }
    request.received = request.received ? Buffer.concat([request.received, chunk]) : chunk;
    const parsed = parseAnswer(request.received, false);
    if (parsed === undefined) return;
    if (parsed instanceof Error) {
      this.drop(socket);
      this.finish(request, { ok: false, error: parsed });
      return;
    }
    const status = parsed.answer.status;
    // Only a clean 2xx answer keeps the socket: after a refusal the next request starts afresh.
    if (!parsed.keep || parsed.consumed !== request.received.length || status < 200 || status > 299) this.drop(socket);
    this.finish(request, parsed.answer);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const cause = this.lastError;
    this.lastError = undefined;
    const request = this.current;
    if (!request) return;
    if (request.received) {
      // A body that runs until the close is complete now; anything else was cut short.
      const parsed = parseAnswer(request.received, true);
      this.finish(
        request,
        parsed && !(parsed instanceof Error)
          ? parsed.answer
          : { ok: false, error: parsed ?? new Error('connection closed in the middle of the answer') },
      );
      return;
    }
    if (request.reused && !request.retried) {
      // Probably closed by the server while idle: once more on a new connection.
      request.retried = true;
      this.queue.unshift(request);
      this.next();
      return;
    }
    this.finish(request, {
      ok: false,
      error: cause ?? new Error(`connection to ${this.host}:${this.port} closed before an answer`),
    });
  }

  private timeOut(request: Request): void {
    request.timer = undefined;
    if (this.current === request) {
      // The answer may still come: the socket cannot carry another request.
      if (this.socket) this.drop(this.socket);
    } else {
      const index = this.queue.indexOf(request);
      if (index >= 0) this.queue.splice(index, 1);
    }
    this.finish(request, { ok: false, error: new Error(`no answer from ${this.host}:${this.port} in time`) });
  }

  private drop(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }

  private finish(request: Request, answer: Answer): void {
    if (request.timer) clearTimeout(request.timer);
    request.timer = undefined;
    const wasCurrent = this.current === request;
    if (wasCurrent) this.current = undefined;
    request.resolve(answer);
    if (wasCurrent) this.next();
  }
}

interface Parsed {
  readonly answer: Answer & { ok: true };
  /** Bytes of the buffer the answer took. */
  readonly consumed: number;
  /** Whether the socket can carry the next request. */
  readonly keep: boolean;
}

/**
 * Parses an HTTP/1.1 answer from the bytes received so far: undefined while incomplete, an Error when
 * malformed or too large. `closed`: the server has closed, which ends a body without a length.
 */
export function parseAnswer(buffer: Buffer, closed: boolean): Parsed | Error | undefined {
  let start = 0;
  for (;;) {
    const end = buffer.indexOf(CRLFCRLF, start);
    if (end < 0) return buffer.length - start > 16_384 ? new Error('answer head too large') : undefined;
    const head = buffer.toString('latin1', start, end);
    const statusLine = /^HTTP\/1\.[01] (\d{3}) ?([^\r\n]*)/.exec(head);
    if (!statusLine) return new Error('not an HTTP/1.1 answer');
    const status = Number(statusLine[1]);
    const lineEnd = head.indexOf('\r\n');
    const headers = lineEnd < 0 ? '' : head.slice(lineEnd + 2).toLowerCase();
    const bodyStart = end + 4;
    // 1xx answers (100 Continue) come before the real one.
    if (status < 200) {
      start = bodyStart;
      continue;
    }
    const keep = !/(^|\n)connection:[ \t]*close/.test(headers);
    const answer = (body: Buffer, consumed: number, keepSocket: boolean): Parsed => ({
      answer: { ok: true, status, reason: statusLine[2], headers, body },
      consumed,
      keep: keepSocket,
    });
    if (status === 204 || status === 304) return answer(Buffer.alloc(0), bodyStart, keep);
    if (/(^|\n)transfer-encoding:[ \t]*chunked/.test(headers)) {
      const chunked = decodeChunked(buffer, bodyStart);
      if (chunked === undefined || chunked instanceof Error) return chunked;
      return answer(chunked.body, chunked.end, keep);
    }
    const length = /(^|\n)content-length:[ \t]*(\d+)/.exec(headers);
    if (length) {
      const size = Number(length[2]);
      if (size > MAX_ANSWER_BYTES) return new Error('answer body too large');
      if (buffer.length < bodyStart + size) return undefined;
      return answer(buffer.subarray(bodyStart, bodyStart + size), bodyStart + size, keep);
    }
    // No length: the body runs until the server closes.
    if (buffer.length - bodyStart > MAX_ANSWER_BYTES) return new Error('answer body too large');
    return closed ? answer(buffer.subarray(bodyStart), buffer.length, false) : undefined;
  }
}

function decodeChunked(buffer: Buffer, from: number): { body: Buffer; end: number } | Error | undefined {
  const parts: Buffer[] = [];
  let size = 0;
  let offset = from;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return undefined;
    const chunkSize = Number.parseInt(buffer.toString('latin1', offset, lineEnd), 16);
    if (!Number.isFinite(chunkSize) || chunkSize < 0) return new Error('malformed chunked body');
    if (chunkSize === 0) {
      // Trailers (none, normally), then the blank line.
      const trailerEnd =
        buffer.indexOf('\r\n', lineEnd + 2, 'latin1') === lineEnd + 2
          ? lineEnd + 4
          : buffer.indexOf(CRLFCRLF, lineEnd + 2) + 4;
      if (trailerEnd < 4 || trailerEnd > buffer.length) return undefined;
      return { body: parts.length === 1 ? parts[0] : Buffer.concat(parts, size), end: trailerEnd };
    }
    size += chunkSize;
    if (size > MAX_ANSWER_BYTES) return new Error('answer body too large');
    const dataStart = lineEnd + 2;
    if (buffer.length < dataStart + chunkSize + 2) return undefined;
    parts.push(buffer.subarray(dataStart, dataStart + chunkSize));
    offset = dataStart + chunkSize + 2;
  }
}

const connections = new Map<string, LoopbackConnection>();

/** The process's one connection to host:port, shared by every exporter and the flushed notice. */
export function loopbackConnection(host: string, port: number): LoopbackConnection {
  const key = `${host}:${port}`;
  let connection = connections.get(key);
  if (!connection) {
    connection = new LoopbackConnection(host, port);
    connections.set(key, connection);
  }
  return connection;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1']);

/** host and port of an http: URL on this host (localhost, 127.0.0.1, [::1]); undefined for anything else. */
export function loopbackTarget(url: string): { host: string; port: number } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (parsed.protocol !== 'http:' || !LOOPBACK_HOSTS.has(host)) return undefined;
  return { host, port: Number(parsed.port) || 80 };
}

/**
 * The start of a POST to `url`: request line, Host and the given headers, each ending in CRLF; the
 * caller adds Content-Length and the blank line. Headers that would break the request (line breaks,
 * or names with separators) are left out.
 */
export function requestHead(url: string, headers: Readonly<Record<string, string>>): string {
  const parsed = new URL(url);
  let head = `POST ${parsed.pathname}${parsed.search} HTTP/1.1\r\nHost: ${parsed.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') {
      continue;
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(String(value))) continue;
    head += `${name}: ${value}\r\n`;
  }
  return head;
}
