/**
 * HTTP/1.1 message framing (RFC 9112), shared by the server and the client in
 * this folder: the head (start line and header fields) and the body (by
 * Content-Length, chunked, or until the connection closes). Strict where
 * leniency lets one request be read as two (request smuggling): bare LF,
 * obsolete line folding, a Content-Length that is not one number, and
 * Content-Length next to Transfer-Encoding are all errors.
 */

export class HttpWireError extends Error {
  constructor(
    /** The status a server answers with: 400, or 501 for a transfer coding it does not know. */
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Header field names, lower-cased; repeated fields joined with ", " (RFC 9110 5.3). */
export type HeaderFields = Record<string, string>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Field values: visible characters, spaces, tabs and obs-text; no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Index just past the blank line (CR LF CR LF) that ends a head, or -1 when it has not arrived yet. */
export function findHeadEnd(buffer: Buffer, from = 0): number {
  // By single bytes: LLRT's Buffer.indexOf finds numbers but not byte sequences.
  let at = Math.max(0, from - 3);
  for (;;) {
    const cr = buffer.indexOf(13, at);
    if (cr < 0 || cr + 3 >= buffer.length) return -1;
    if (buffer[cr + 1] === 10 && buffer[cr + 2] === 13 && buffer[cr + 3] === 10) return cr + 4;
    at = cr + 1;
  }
}

function parseFields(lines: string[]): HeaderFields {
  const headers: HeaderFields = {};
  for (const line of lines) {
    if (line.includes('\n')) throw new HttpWireError(400, 'bare LF in the header section');
    if (line[0] === ' ' || line[0] === '\t')
      throw new HttpWireError(400, 'obsolete line folding in the header section');
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name))
      throw new HttpWireError(400, `malformed header field line ${JSON.stringify(line.slice(0, 64))}`);
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) throw new HttpWireError(400, `header field ${name} has a control character`);
    const key = name.toLowerCase();
    const earlier = headers[key];
    headers[key] = earlier === undefined ? value : `${earlier}, ${value}`;
  }
  return headers;
}

export interface RequestHead {
  readonly method: string;
  /** The request target as sent (path and query). */
  readonly target: string;
  /** The target's path, without the query. */
  readonly path: string;
  /** 1.0 or 1.1. */
  readonly minorVersion: number;
  readonly headers: HeaderFields;
}

/** Parses a request head (without its final CRLF CRLF). */
export function parseRequestHead(head: Buffer): RequestHead {
  const lines = head.toString('latin1').split('\r\n');
  // RFC 9112 2.2: a server should ignore at least one empty line before the request line.
  while (lines.length > 1 && lines[0] === '') lines.shift();
  const match = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\s]+) HTTP\/1\.([01])$/.exec(lines[0]);
  if (!match) throw new HttpWireError(400, `malformed request line ${JSON.stringify(lines[0].slice(0, 64))}`);
  const target = match[2];
  const query = target.indexOf('?');
  return {
    method: match[1],
    target,
    path: query < 0 ? target : target.slice(0, query),
    minorVersion: Number(match[3]),
    headers: parseFields(lines.slice(1)),
  };
}

export interface ResponseHead {
  readonly status: number;
  readonly minorVersion: number;
  readonly headers: HeaderFields;
}

/** Parses a response head (without its final CRLF CRLF). */
export function parseResponseHead(head: Buffer): ResponseHead {
  const lines = head.toString('latin1').split('\r\n');
  const match = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]);
  if (!match) throw new HttpWireError(400, `malformed status line ${JSON.stringify(lines[0].slice(0, 64))}`);
  return { status: Number(match[2]), minorVersion: Number(match[1]), headers: parseFields(lines.slice(1)) };
}

/** How a message's body is delimited. */
export type Framing =
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

/**
 * The framing of a message from its headers. `untilClose` is what a message
 * with neither header means: an empty body for requests, the rest of the
 * connection for responses (RFC 9112 6.3).
 */
export function framingOf(headers: HeaderFields, untilClose: boolean): Framing {
  const coding = headers['transfer-encoding'];
  const length = headers['content-length'];
  if (coding !== undefined) {
    if (length !== undefined) throw new HttpWireError(400, 'both Transfer-Encoding and Content-Length');
    if (coding.toLowerCase() !== 'chunked') {
      throw new HttpWireError(501, `transfer coding ${coding} is not supported; use chunked or Content-Length`);
    }
    return { kind: 'chunked' };
  }
  if (length !== undefined) {
    // Repeated identical values ("10, 10") are one length; anything else is not.
    const values = new Set(length.split(',').map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) {
      throw new HttpWireError(400, `malformed Content-Length ${JSON.stringify(length.slice(0, 32))}`);
    }
    return { kind: 'length', length: Number(only) };
  }
  return untilClose ? { kind: 'close' } : { kind: 'length', length: 0 };
}

/** Longest chunk-size line (size, extensions) and trailer section accepted. */
const MAX_CHUNK_LINE = 4096;

/**
 * Reads one body from successive pieces of a connection's bytes. `feed` takes
 * what it can and says how many bytes it used; the rest belongs to the next
 * message. Body bytes go to `onData` as they arrive (views into the input).
 */
export class BodyDecoder {
  private remaining: number;
  private state: 'data' | 'size' | 'data-crlf' | 'trailers' | 'done';
  private line = '';
  /** Body bytes seen so far. */
  received = 0;

  constructor(
    private readonly framing: Framing,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.state =
      framing.kind === 'chunked' ? 'size' : framing.kind === 'length' && framing.length === 0 ? 'done' : 'data';
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** The body's length when the head announced it. */
  get declaredLength(): number | undefined {
    return this.framing.kind === 'length' ? this.framing.length : undefined;
  }

  /** Takes body bytes from `input` starting at `offset`; returns the offset just past what it used. */
  feed(input: Buffer, offset: number): number {
    let at = offset;
    while (at < input.length && this.state !== 'done') {
      switch (this.state) {
        case 'data': {
          if (this.framing.kind === 'close') {
            this.deliver(input.subarray(at));
            return input.length;
          }
          const take = Math.min(this.remaining, input.length - at);
          this.deliver(input.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = this.framing.kind === 'chunked' ? 'data-crlf' : 'done';
          break;
        }
        case 'size':
        case 'data-crlf':
        case 'trailers': {
          const lf = input.indexOf(10, at);
          const end = lf < 0 ? input.length : lf + 1;
          this.line += input.toString('latin1', at, end);
          at = end;
          if (this.line.length > MAX_CHUNK_LINE) throw new HttpWireError(400, 'chunk-size line or trailer too long');
          if (lf >= 0) this.endOfLine();
          break;
        }
      }
    }
    return at;
  }

  /** The connection closed: a body read until close is complete, any other is cut short. */
  end(): boolean {
    if (this.framing.kind === 'close') this.state = 'done';
    return this.state === 'done';
  }

  private deliver(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.received += chunk.length;
    this.onData(chunk);
  }

  private endOfLine(): void {
    const line = this.line;
    this.line = '';
    if (!line.endsWith('\r\n')) throw new HttpWireError(400, 'bare LF in chunked framing');
    const text = line.slice(0, -2);
    if (this.state === 'data-crlf') {
      if (text !== '') throw new HttpWireError(400, 'chunk data longer than its size');
      this.state = 'size';
    } else if (this.state === 'size') {
      const match = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(text);
      if (!match) throw new HttpWireError(400, `malformed chunk size ${JSON.stringify(text.slice(0, 32))}`);
      this.remaining = Number.parseInt(match[1], 16);
      this.state = this.remaining === 0 ? 'trailers' : 'data';
    } else if (text === '') {
      this.state = 'done';
    } else if (text.includes('\n') || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(text)) {
      throw new HttpWireError(400, 'malformed trailer field');
    }
  }
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  202: 'Accepted',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Status';
}

/** A head's header lines ("name: value\r\n" each); refuses names and values that would break the framing. */
export function headerLines(headers: Readonly<Record<string, string>>): string {
  let text = '';
  for (const name in headers) {
    const value = headers[name];
    if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) {
      throw new HttpWireError(400, `header ${JSON.stringify(name)} cannot be sent: invalid name or value`);
    }
    text += `${name}: ${value}\r\n`;
  }
  return text;
}

/** One buffer of head and body, written in one call (one syscall, one packet when small). */
export function message(head: string, body: Uint8Array | undefined): Buffer {
  const headBytes = Buffer.from(head, 'latin1');
  if (!body || body.byteLength === 0) return headBytes;
  return Buffer.concat([headBytes, body]);
}

/** A chunk of a socket's data as a Buffer (engines without node:net's Buffer chunks hand out Uint8Arrays). */
export function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'latin1');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
