/**
 * One kept-alive HTTP/1.1 connection to a server on this host (the
 * extension's receiver), for what the instrumentation sends on every
 * invocation: OTLP exports and the flushed notice. node:http's client costs a
 * few hundred microseconds of CPU a request (agent, parser, streams) and is
 * what the http instrumentation patches; a plain `net` socket with a
 * hand-written request and a small answer parser costs a fraction of that and
 * stays out of the instrumentation's sight.
 *
 * A request counts as sent once its bytes are all in the kernel (the write
 * callback fired: nothing left in Node's buffer). That is what survives a
 * freeze right after the handler returns: the server on this host keeps
 * running and reads them, so callers need not wait a round trip for the
 * answer. Requests are written as they come (HTTP/1.1 pipelining); answers
 * are read in order whenever they come, also after a thaw, and handed to the
 * request's `onAnswer`. Nothing waits for an answer with a timer, so a freeze
 * cannot break the connection; the socket holds the process only while bytes
 * are unwritten.
 *
 * While writes are held (holdLoopbackWrites: the end-of-invocation flush
 * holds them), a request is queued instead, counts as sent at once, and the
 * release writes everything queued in one go, in order: an invocation's
 * exports and its flushed notice cost one write, one wake-up of the server
 * and usually one read of the answers. The release resolves once those bytes
 * are all in the kernel.
 *
 * An answer is read by its content-length or chunked body (what node:http
 * servers send), or up to the close. A well-formed answer, success or refusal,
 * leaves the socket for the next request, as node:http's agent does; a
 * malformed one, a close or `connection: close` ends it: requests still
 * waiting for their answer get a lost-connection error as their answer, and
 * requests not fully written fail. Nothing is sent twice (a written request
 * may have been processed). The next request connects again. `send` never
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

/** Whether the request's bytes all reached the kernel, or why not (connect failed, reset, write timed out). */
export type Written = { readonly ok: true } | { readonly ok: false; readonly error: Error };

const WRITTEN: Written = { ok: true };

/** Longest answer read (as the SDK's own transport): past it the connection is given up. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

interface Request {
  /** Told once the bytes are all in the kernel, or why not. */
  written: (written: Written) => void;
  readonly onAnswer: ((answer: Answer) => void) | undefined;
  /** Whether the write has settled (all bytes in the kernel, or failed). */
  writeDone: boolean;
  answerDone: boolean;
  /** Only while the bytes are still in Node's buffer (connecting, or a full socket). */
  timer: NodeJS.Timeout | undefined;
  /** Called once the request is settled for good (answered, lost or failed): see `settled`. */
  waiters?: (() => void)[];
}

/** One socket and what is in flight on it, so that events of a socket given up settle only its own requests. */
interface Link {
  readonly socket: Socket;
  /** Requests written and not yet answered, oldest first (answers come in the same order). */
  readonly inFlight: Request[];
  /** Requests whose bytes are not all in the kernel yet: the socket holds the process while there are some. */
  unwritten: number;
  /** Bytes of the answers not yet complete. */
  received: Buffer | undefined;
  /** The error about to close the socket (refused, reset), for the requests it fails. */
  error: Error | undefined;
  closed: boolean;
}

/** A request waiting for the release of the writes held back (see holdLoopbackWrites). */
interface Queued {
  readonly request: Request;
  readonly head: string;
  readonly body: Uint8Array | undefined;
  readonly writeTimeoutMs: number;
}

export class LoopbackConnection {
  private link: Link | undefined;
  private queued: Queued[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  /**
   * Sends one request: `head` is the request line and headers, ending with the blank line; `body`
   * follows as is. Resolves once the bytes are all in the kernel, or with the error (connect refused,
   * reset, not written within `writeTimeoutMs`); while writes are held, at once (queued: the release
   * reports the write). `onAnswer` gets the answer whenever it comes, or the error that ended the
   * connection first; it is not called for a request whose write failed.
   */
  send(
    head: string,
    body: Uint8Array | undefined,
    writeTimeoutMs: number,
    onAnswer?: (answer: Answer) => void,
  ): Promise<Written> {
    return new Promise<Written>((resolve) => {
      const request: Request = {
        written: resolve,
        onAnswer,
        writeDone: false,
        answerDone: false,
        timer: undefined,
      };
      const queued: Queued = { request, head, body, writeTimeoutMs };
      if (holds > 0) {
        request.written = ignoreWritten;
        this.queued.push(queued);
        heldConnections.add(this);
        resolve(WRITTEN);
      } else {
        this.write([queued]);
      }
    });
  }

  /** Writes the requests queued while writes were held, in one go; resolves once they are all in the kernel. */
  writeQueued(): Promise<Written> {
    const queued = this.queued.splice(0);
    if (queued.length === 0) return Promise.resolve(WRITTEN);
    return new Promise<Written>((resolve) => {
      let left = queued.length;
      let failure: Written | undefined;
      for (const { request } of queued) {
        request.written = (written) => {
          if (!written.ok) failure ??= written;
          if (--left === 0) resolve(failure ?? WRITTEN);
        };
      }
      this.write(queued);
    });
  }

  /**
   * Resolves once every request sent so far has its answer (or has failed, or lost its connection).
   * Nothing in the invocation path waits for it; it is for shutdown and tests.
   */
  settled(): Promise<void> {
    const last = this.link?.inFlight.at(-1);
    if (!last) return Promise.resolve();
    return new Promise<void>((resolve) => {
      last.waiters ??= [];
      last.waiters.push(resolve);
    });
  }

  /** Closes the socket: requests not yet written fail, answers not yet read are lost. */
  close(): void {
    if (this.link) this.drop(this.link, new Error('connection closed'));
  }

  /** Writes requests, heads and bodies, in one writev. */
  private write(requests: readonly Queued[]): void {
    let link = this.link;
    // Not writable: the server has closed its side (seen before this write), so a new connection.
    if (!link || link.closed || !link.socket.writable) link = this.open();
    const socket = link.socket;
    if (link.unwritten === 0) socket.ref();
    link.unwritten += requests.length;
    socket.cork();
    for (const { request, head, body } of requests) {
      link.inFlight.push(request);
      const done = (error: Error | null | undefined) => {
        if (error) this.failWrite(link, request, error);
        else this.delivered(link, request);
      };
      if (body && body.length > 0) {
        socket.write(head);
        socket.write(body, done);
      } else {
        socket.write(head, done);
      }
    }
    socket.uncork();
    // Written at once (the usual case on a connected socket): the callbacks follow on the next tick.
    if (socket.connecting || socket.writableLength > 0) {
      for (const { request, writeTimeoutMs } of requests) {
        request.timer = setTimeout(() => this.writeTimeOut(link, request), Math.max(1, Math.floor(writeTimeoutMs)));
      }
    }
  }

  private open(): Link {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    const link: Link = { socket, inFlight: [], unwritten: 0, received: undefined, error: undefined, closed: false };
    socket.on('data', (chunk: Buffer) => this.onData(link, chunk));
    // Errors are followed by 'close', which settles the requests; without a listener they would be uncaught.
    socket.on('error', (error) => {
      link.error = error;
    });
    socket.on('close', () => this.onClose(link));
    this.link = link;
    return link;
  }

  private delivered(link: Link, request: Request): void {
    if (request.writeDone) return;
    request.writeDone = true;
    this.writeSettled(link, request);
    request.written(WRITTEN);
  }

  private failWrite(link: Link, request: Request, error: Error): void {
    if (request.writeDone) return;
    request.writeDone = true;
    // Not all of it reached the server: no answer will be reported for it.
    request.answerDone = true;
    this.writeSettled(link, request);
    request.written({ ok: false, error });
    release(request);
    // Part of it may be on the wire: the connection is out of step.
    this.drop(link, error);
  }

  private writeSettled(link: Link, request: Request): void {
    if (request.timer) clearTimeout(request.timer);
    request.timer = undefined;
    // Answers do not hold the process (nor a callback handler's empty event loop); unwritten bytes do.
    if (--link.unwritten === 0) link.socket.unref();
  }

  private writeTimeOut(link: Link, request: Request): void {
    request.timer = undefined;
    // After a thaw the timer can fire before the socket's pending events of the same loop turn: look
    // again once they have run (setImmediate runs after the poll phase).
    setImmediate(() => {
      if (!request.writeDone) {
        this.failWrite(link, request, new Error(`could not write to ${this.host}:${this.port} in time`));
      }
    });
  }

  private onData(link: Link, chunk: Buffer): void {
    if (link.closed) return;
    link.received = link.received ? Buffer.concat([link.received, chunk]) : chunk;
    while (link.received && link.inFlight.length > 0) {
      const parsed = parseAnswer(link.received, false);
      if (parsed === undefined) return;
      if (parsed instanceof Error) {
        this.drop(link, parsed);
        return;
      }
      const request = link.inFlight.shift()!;
      link.received = parsed.consumed < link.received.length ? link.received.subarray(parsed.consumed) : undefined;
      this.answer(request, parsed.answer);
      if (!parsed.keep) {
        this.drop(link, new Error('the server closed the connection after an earlier answer'));
        return;
      }
    }
    if (link.received) this.drop(link, new Error('bytes nobody asked for: the connection is out of step'));
  }

  private onClose(link: Link): void {
    if (link.closed) return;
    if (link.received && link.inFlight.length > 0) {
      // A body that runs until the close is complete now; anything else was cut short.
      const parsed = parseAnswer(link.received, true);
      if (parsed && !(parsed instanceof Error)) this.answer(link.inFlight.shift()!, parsed.answer);
    }
    this.drop(link, link.error ?? new Error(`connection to ${this.host}:${this.port} closed before an answer`));
  }

  /**
   * Gives the socket up: requests not fully written fail, written ones get `error` as their answer
   * (they may have been processed, so they are not sent again).
   */
  private drop(link: Link, error: Error): void {
    if (link.closed) return;
    link.closed = true;
    if (this.link === link) this.link = undefined;
    link.socket.destroy();
    for (const request of link.inFlight.splice(0)) {
      if (!request.writeDone) {
        request.writeDone = true;
        request.answerDone = true;
        if (request.timer) clearTimeout(request.timer);
        request.timer = undefined;
        request.written({ ok: false, error });
        release(request);
      } else {
        this.answer(request, { ok: false, error });
      }
    }
  }

  private answer(request: Request, answer: Answer): void {
    if (request.answerDone) return;
    request.answerDone = true;
    try {
      request.onAnswer?.(answer);
    } catch {
      // A caller's handler must not break the connection's reading.
    }
    release(request);
  }
}

function release(request: Request): void {
  if (!request.waiters) return;
  for (const waiter of request.waiters.splice(0)) waiter();
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

const connections = new Map<number, LoopbackConnection>();

/** How many holds are on (see holdLoopbackWrites), and the connections with requests queued meanwhile. */
let holds = 0;
const heldConnections = new Set<LoopbackConnection>();
const ignoreWritten = () => {};

/**
 * Holds back the writes of every loopback connection until the returned release: requests sent
 * meanwhile count as sent at once, and the release writes all that is queued, per connection in
 * one go and in the order sent. The release resolves once those bytes are all in the kernel, or
 * with the first failure; each request still gets its answer (or lost-connection error) as usual.
 * Holds may overlap (concurrent invocations): a release writes everything queued so far, and
 * requests wait only while some hold is on.
 */
export function holdLoopbackWrites(): () => Promise<Written> {
  holds++;
  let released = false;
  return async () => {
    if (!released) {
      released = true;
      holds--;
    }
    const held = [...heldConnections];
    heldConnections.clear();
    const results = await Promise.all(held.map((connection) => connection.writeQueued()));
    return results.find((written) => !written.ok) ?? WRITTEN;
  };
}

/**
 * The process's one connection to a port on this host, shared by every exporter and the flushed
 * notice. By port only: localhost, 127.0.0.1 and [::1] are the same server (the extension listens on
 * both addresses), and the notice must follow the exports on their connection to be taken after them.
 * The first caller's host is the one connected to (the exporters, created at start-up).
 */
export function loopbackConnection(host: string, port: number): LoopbackConnection {
  let connection = connections.get(port);
  if (!connection) {
    connection = new LoopbackConnection(host, port);
    connections.set(port, connection);
  }
  return connection;
}

/** Resolves once every request sent so far on any loopback connection has its answer (see `settled`). */
export async function loopbackSettled(): Promise<void> {
  await Promise.all([...connections.values()].map((c) => c.settled()));
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
