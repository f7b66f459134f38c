/**
 * One kept-alive HTTP/1.1 connection to a server on this host (the
 * extension's receiver), for what the instrumentation sends on every
 * invocation: OTLP exports and the flushed notice. node:http's client costs a
 * few hundred microseconds of CPU a request (agent, parser, streams) and is
 * what the http instrumentation patches; a plain `net` socket with a
 * hand-written request and a small answer parser costs a fraction of that and
 * stays out of the instrumentation's sight.
 *
 * Requests are written as they come (HTTP/1.1 pipelining: the traces and
 * metrics exports of one flush leave in one write each and are answered in
 * order). An answer is read by its content-length or chunked body (what
 * node:http servers send), or up to the close. A well-formed answer, success
 * or refusal, leaves the socket for the next request, as node:http's agent
 * does; a malformed one, a timeout, a close or `connection: close` ends it
 * and fails what is still in flight on it (those requests may have been
 * processed, so they are not sent again); the next request connects again.
 * Requests sent on a kept idle socket that the server closes before any
 * answer (an idle close) are sent once more on a new one. `send` never
 * rejects.
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
  settled: boolean;
  /** Whether it went out on a kept socket with nothing else in flight (so a close before any answer means an idle close). */
  onIdleSocket: boolean;
  retried: boolean;
}

/** One socket and what is in flight on it, so that events of a socket already given up touch nothing. */
interface Link {
  readonly socket: Socket;
  /** Requests written and not yet answered, oldest first (answers come in the same order). */
  readonly inFlight: Request[];
  /** Bytes of the answers not yet complete. */
  received: Buffer | undefined;
  /** Whether a complete answer came on this socket. */
  answered: boolean;
  /** The error about to close the socket (refused, reset), for the requests it fails. */
  error: Error | undefined;
}

export class LoopbackConnection {
  private link: Link | undefined;

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
        settled: false,
        onIdleSocket: false,
        retried: false,
      };
      request.timer = setTimeout(() => this.timeOut(request), Math.max(1, Math.floor(timeoutMs)));
      this.write(request);
    });
  }

  /** Closes the socket; requests in flight fail. */
  close(): void {
    if (this.link) this.drop(this.link, new Error('connection closed'));
  }

  private write(request: Request): void {
    let link = this.link;
    if (!link || link.socket.destroyed) link = this.open();
    request.onIdleSocket = link.answered && link.inFlight.length === 0;
    link.inFlight.push(request);
    const socket = link.socket;
    socket.ref();
    // One writev for head and body.
    socket.cork();
    socket.write(request.head);
    if (request.body && request.body.length > 0) socket.write(request.body);
    socket.uncork();
  }

  private open(): Link {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    const link: Link = { socket, inFlight: [], received: undefined, answered: false, error: undefined };
    socket.on('data', (chunk: Buffer) => this.onData(link, chunk));
    // Errors are followed by 'close', which settles the requests; without a listener they would be uncaught.
    socket.on('error', (error) => {
      link.error = error;
    });
    socket.on('close', () => this.onClose(link));
    this.link = link;
    return link;
  }

  private onData(link: Link, chunk: Buffer): void {
    if (link !== this.link) return;
    link.received = link.received ? Buffer.concat([link.received, chunk]) : chunk;
    while (link.received && link.inFlight.length > 0) {
      const parsed = parseAnswer(link.received, false);
      if (parsed === undefined) return;
      if (parsed instanceof Error) {
        this.drop(link, parsed);
        return;
      }
      const request = link.inFlight.shift()!;
      link.answered = true;
      link.received = parsed.consumed < link.received.length ? link.received.subarray(parsed.consumed) : undefined;
      this.finish(request, parsed.answer);
      if (!parsed.keep) {
        this.drop(link, new Error('the server closed the connection after an earlier answer'));
        return;
      }
    }
    if (link.received) {
      this.drop(link, new Error('bytes nobody asked for: the connection is out of step'));
      return;
    }
    // Idle: a kept socket must not keep the process alive.
    if (link.inFlight.length === 0) link.socket.unref();
  }

  private onClose(link: Link): void {
    // A link given up earlier has had its requests settled already.
    if (link !== this.link) return;
    this.link = undefined;
    const pending = link.inFlight.splice(0);
    if (pending.length === 0) return;
    const error = link.error ?? new Error(`connection to ${this.host}:${this.port} closed before an answer`);
    if (link.received) {
      // A body that runs until the close is complete now; anything else was cut short.
      const parsed = parseAnswer(link.received, true);
      this.finish(
        pending[0],
        parsed && !(parsed instanceof Error)
          ? parsed.answer
          : { ok: false, error: parsed ?? new Error('connection closed in the middle of the answer') },
      );
      for (const request of pending.slice(1)) this.finish(request, { ok: false, error });
      return;
    }
    // Nothing came back to requests sent on a kept idle socket: the server had closed it while idle,
    // before reading them. Once more on a new connection.
    const stale = pending[0].onIdleSocket;
    for (const request of pending) {
      if (stale && !request.retried && !request.settled) {
        request.retried = true;
        this.write(request);
      } else {
        this.finish(request, { ok: false, error });
      }
    }
  }

  private timeOut(request: Request): void {
    request.timer = undefined;
    this.finish(request, { ok: false, error: new Error(`no answer from ${this.host}:${this.port} in time`) });
    // Its answer may still come: the socket cannot carry the requests behind it any more.
    const link = this.link;
    if (link?.inFlight.includes(request)) {
      link.inFlight.splice(link.inFlight.indexOf(request), 1);
      this.drop(link, new Error('connection reset: a request before this one timed out'));
    }
  }

  /** Gives the socket up: its requests in flight fail with `error`. */
  private drop(link: Link, error: Error): void {
    if (this.link === link) this.link = undefined;
    link.socket.destroy();
    for (const request of link.inFlight.splice(0)) this.finish(request, { ok: false, error });
  }

  private finish(request: Request, answer: Answer): void {
    if (request.settled) return;
    request.settled = true;
    if (request.timer) clearTimeout(request.timer);
    request.timer = undefined;
    request.resolve(answer);
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
    // "HTTP/1.1 200 OK"
    const status = Number(head.slice(9, 12));
    if (!head.startsWith('HTTP/1.') || head[8] !== ' ' || !(status >= 100 && status <= 599)) {
      return new Error('not an HTTP/1.1 answer');
    }
    const lineEnd = head.indexOf('\r\n');
    const reason = head.slice(13, lineEnd < 0 ? undefined : lineEnd);
    // With a line break in front, so that every header is found as "\n<name>:".
    const headers = lineEnd < 0 ? '' : head.slice(lineEnd + 1).toLowerCase();
    const bodyStart = end + 4;
    // 1xx answers (100 Continue) come before the real one.
    if (status < 200) {
      start = bodyStart;
      continue;
    }
    const keep = headerValue(headers, 'connection') !== 'close';
    const answer = (body: Buffer, consumed: number, keepSocket: boolean): Parsed => ({
      answer: { ok: true, status, reason, headers: headers.slice(1), body },
      consumed,
      keep: keepSocket,
    });
    if (status === 204 || status === 304) return answer(Buffer.alloc(0), bodyStart, keep);
    if (headerValue(headers, 'transfer-encoding')?.includes('chunked')) {
      const chunked = decodeChunked(buffer, bodyStart);
      if (chunked === undefined || chunked instanceof Error) return chunked;
      return answer(chunked.body, chunked.end, keep);
    }
    const length = headerValue(headers, 'content-length');
    if (length !== undefined) {
      const size = Number(length);
      if (!Number.isInteger(size) || size < 0) return new Error('malformed content-length');
      if (size > MAX_ANSWER_BYTES) return new Error('answer body too large');
      if (buffer.length < bodyStart + size) return undefined;
      return answer(buffer.subarray(bodyStart, bodyStart + size), bodyStart + size, keep);
    }
    // No length: the body runs until the server closes.
    if (buffer.length - bodyStart > MAX_ANSWER_BYTES) return new Error('answer body too large');
    return closed ? answer(buffer.subarray(bodyStart), buffer.length, false) : undefined;
  }
}

/** The value of a header in a lower-cased header block that starts with "\n" (lines end in CRLF). */
function headerValue(headers: string, name: string): string | undefined {
  const at = headers.indexOf(`\n${name}:`);
  if (at < 0) return undefined;
  const end = headers.indexOf('\r', at + 1);
  return headers.slice(at + name.length + 2, end < 0 ? undefined : end).trim();
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
