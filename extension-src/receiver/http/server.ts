/**
 * OTLP/HTTP receiver on loopback (127.0.0.1, and ::1 where it exists):
 * POST /v1/traces, /v1/metrics, /v1/logs in protobuf or JSON, optionally
 * gzip, plus the function's "flushed" notice (POST /observed/v1/flushed,
 * `{"requestId": "..."}`, answered 204).
 *
 * Every request is answered and the server keeps serving:
 * - 200 with the (empty) Export*ServiceResponse in the request's content type;
 * - 400 with the reason for malformed protobuf, JSON or gzip (a google.rpc.Status
 *   in the request's content type, as OTLP/HTTP asks);
 * - 413 for a body over OBSERVED_RECEIVER_MAX_BODY_BYTES, or over
 *   OBSERVED_RECEIVER_MAX_DECOMPRESSED_BYTES once decompressed (gzip bombs);
 * - 415 for another content type or content encoding; 404 for other paths;
 *   405 for other methods.
 * Protobuf is validated by one walk of the wire format (otlp/validate.ts) and
 * forwarded as received; JSON is converted to protobuf, so the pipeline only
 * carries protobuf.
 *
 * Keep-alive sockets are never timed out by the server: the environment
 * freezes between invocations, and a server-side idle timeout firing at the
 * thaw would close a socket the function's SDK is about to reuse (its request
 * would fail). The SDK's client closes idle sockets itself, safely.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import type { OtlpPayload } from '../../contracts/payload.js';
import { jsonToProtobuf, OtlpJsonError } from '../../otlp/json.js';
import type { Signal } from '../../otlp/types.js';
import { validateRequest, WireFormatError } from '../../otlp/validate.js';
import type { Logger } from '../../self/log.js';

export const FLUSHED_PATH = '/observed/v1/flushed';

const SIGNAL_PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

/** A refused body is read and discarded up to this size (and time) so the client gets the answer; beyond, the socket is closed. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 5_000;

/** gRPC status codes carried in google.rpc.Status bodies. */
const STATUS_CODES: Record<number, number> = { 400: 3, 404: 5, 405: 12, 413: 8, 415: 3, 500: 13 };

export interface ReceiverSink {
  /** A valid request of the function's telemetry, as protobuf. */
  accept(payload: OtlpPayload): void;
  /** The function's SDK has flushed everything for this request id. */
  flushed(requestId: string): void;
}

export interface HttpReceiverOptions {
  readonly port: number;
  /** Default: 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  readonly maxBodyBytes: number;
  readonly maxDecompressedBytes: number;
  readonly sink: ReceiverSink;
  readonly log: Logger;
}

export interface HttpReceiverStats {
  accepted: number;
  /** Refused requests by HTTP status. */
  refused: Record<number, number>;
}

type Format = 'protobuf' | 'json';

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

function formatOf(contentType: string): Format | undefined {
  if (contentType === 'application/x-protobuf' || contentType === 'application/protobuf') return 'protobuf';
  if (contentType === 'application/json') return 'json';
  return undefined;
}

/** google.rpc.Status { code = 1; message = 2 } in protobuf. */
function encodeStatus(code: number, message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const lengthVarint: number[] = [];
  let n = text.length;
  while (n > 0x7f) {
    lengthVarint.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  lengthVarint.push(n);
  return Buffer.concat([Buffer.from([0x08, code, 0x12, ...lengthVarint]), text]);
}

function gunzipLimited(data: Buffer, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    gunzip(data, { maxOutputLength: limit }, (error, out) => (error ? reject(error) : resolve(out))),
  );
}

export class HttpReceiver {
  readonly stats: HttpReceiverStats = { accepted: 0, refused: {} };
  private readonly servers: Server[] = [];
  /**
   * The last request under way on each connection. Requests pipelined on one
   * connection are taken in order, each after the one before it, so the
   * function's flushed notice written right behind its exports is only taken
   * once they are (node:http starts on the next request before the previous
   * one's body is done; a gzip body would otherwise be overtaken).
   */
  private readonly lastOnConnection = new WeakMap<object, Promise<unknown>>();

  constructor(private readonly options: HttpReceiverOptions) {}

  /** The port listened on (useful when started with port 0), once started. */
  get port(): number | undefined {
    return (this.servers[0]?.address() as AddressInfo | null)?.port;
  }

  get listening(): boolean {
    return this.servers.length > 0;
  }

  /** Listens on every loopback address it can; a taken port is logged, not fatal. */
  async start(): Promise<this> {
    let port = this.options.port;
    for (const host of this.options.hosts ?? ['127.0.0.1', '::1']) {
      const server = createServer({ keepAliveTimeout: 0, requestTimeout: 60_000 }, (req, res) => this.handle(req, res));
      server.keepAliveTimeout = 0;
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          if (host === '::1' && (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT')) {
            this.options.log.debug(`OTLP/HTTP receiver: no ::1 here (${error.code})`);
          } else {
            this.options.log.warn(
              `OTLP/HTTP receiver cannot listen on ${host}:${port} (${error.code ?? error.message}); set OBSERVED_RECEIVER_PORT to a free port (accepted values: 0 to 65535). The function's telemetry cannot reach the extension on this address`,
            );
          }
          resolve(false);
        });
        server.listen(port, host, () => resolve(true));
      });
      if (!ok) continue;
      server.on('error', (error) =>
        this.options.log.once('receiver-error', 'error', `OTLP/HTTP receiver: ${error.message}`),
      );
      server.on('clientError', (_error, socket) => socket.destroy());
      this.servers.push(server);
      port = (server.address() as AddressInfo).port;
    }
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.servers.length = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const signal = SIGNAL_PATHS[path];
    const format = formatOf(mediaType(req.headers['content-type']));
    const before = this.lastOnConnection.get(req.socket);
    const processed = before
      ? before.then(() => this.process(req, path, signal, format))
      : this.process(req, path, signal, format);
    this.lastOnConnection.set(
      req.socket,
      processed.catch(() => undefined),
    );
    processed
      .then((body) => {
        if (body === undefined) {
          res.writeHead(204).end();
          return;
        }
        this.stats.accepted++;
        res.writeHead(200, { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf' });
        res.end(body);
      })
      .catch((error: unknown) => {
        const status = error instanceof Refusal ? error.status : 500;
        const message = error instanceof Error ? error.message : String(error);
        this.refuse(req, res, status, message, format);
      });
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    message: string,
    format: Format | undefined,
  ) {
    this.stats.refused[status] = (this.stats.refused[status] ?? 0) + 1;
    this.options.log.debug(`OTLP/HTTP receiver: ${status} for ${req.method} ${req.url}: ${message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (status === 405) headers.allow = 'POST';
    let body: Buffer;
    if (format === 'json') {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify({ code: STATUS_CODES[status] ?? 2, message }));
    } else if (format === 'protobuf') {
      headers['content-type'] = 'application/x-protobuf';
      body = encodeStatus(STATUS_CODES[status] ?? 2, message);
    } else {
      headers['content-type'] = 'text/plain; charset=utf-8';
      body = Buffer.from(`${message}\n`);
    }
    const answer = () => {
      if (!res.headersSent) res.writeHead(status, headers).end(body);
    };
    // A body not read (too large, or refused before reading) is read and discarded first, then answered: a
    // client still writing would otherwise see its connection reset instead of the answer. Past a bound, the
    // answer goes at once and the socket is closed.
    if (req.readableEnded) answer();
    else this.discard(req, answer);
  }

  private discard(req: IncomingMessage, then: () => void): void {
    let seen = 0;
    let finished = false;
    const finish = (close: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      then();
      if (close) setImmediate(() => req.socket.destroy());
    };
    const timer = setTimeout(() => finish(true), DISCARD_MAX_MS);
    timer.unref();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > DISCARD_MAX_BYTES) {
      finish(true);
      return;
    }
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_MAX_BYTES) finish(true);
    });
    req.on('end', () => finish(false));
    req.on('error', () => finish(true));
    req.resume();
  }

  /** Resolves with the response body (undefined for 204), or rejects with a Refusal. */
  private async process(
    req: IncomingMessage,
    path: string,
    signal: Signal | undefined,
    format: Format | undefined,
  ): Promise<Buffer | undefined> {
    if (path === FLUSHED_PATH) {
      if (req.method !== 'POST') throw new Refusal(405, `${req.method} is not allowed; use POST`);
      const body = await this.readBody(req, 4096);
      let requestId: unknown;
      try {
        requestId = (JSON.parse(body.toString('utf8')) as { requestId?: unknown })?.requestId;
      } catch {
        requestId = undefined;
      }
      if (typeof requestId !== 'string' || requestId === '') {
        throw new Refusal(400, 'expected a JSON body {"requestId": "<aws request id>"}');
      }
      this.options.sink.flushed(requestId);
      return undefined;
    }
    if (!signal) throw new Refusal(404, `no such path ${path}; OTLP paths are /v1/traces, /v1/metrics, /v1/logs`);
    if (req.method !== 'POST') throw new Refusal(405, `${req.method} is not allowed; use POST`);
    if (!format) {
      throw new Refusal(
        415,
        `content type ${req.headers['content-type'] ?? '(none)'} is not supported; use application/x-protobuf or application/json`,
      );
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      throw new Refusal(415, `content encoding ${encoding} is not supported; use gzip or none`);
    }
    let body = await this.readBody(req, this.options.maxBodyBytes);
    if (encoding === 'gzip') {
      try {
        body = await gunzipLimited(body, this.options.maxDecompressedBytes);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw new Refusal(413, `decompressed body larger than ${this.options.maxDecompressedBytes} bytes`);
        }
        throw new Refusal(400, `invalid gzip data: ${(error as Error).message}`);
      }
    }
    let payload: OtlpPayload;
    if (format === 'protobuf') {
      try {
        payload = { signal, bytes: body, items: validateRequest(signal, body) };
      } catch (error) {
        if (error instanceof WireFormatError)
          throw new Refusal(400, `malformed OTLP ${signal} protobuf: ${error.message}`);
        throw error;
      }
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new Refusal(400, `malformed JSON: ${(error as Error).message}`);
      }
      try {
        const converted = jsonToProtobuf(signal, parsed);
        payload = { signal, bytes: converted.bytes, items: converted.items };
      } catch (error) {
        if (error instanceof OtlpJsonError) throw new Refusal(400, `malformed OTLP ${signal} JSON: ${error.message}`);
        throw error;
      }
    }
    if (payload.bytes.length > 0) this.options.sink.accept(payload);
    return format === 'json' ? Buffer.from('{}') : Buffer.alloc(0);
  }

  private readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      return Promise.reject(new Refusal(413, `body of ${declared} bytes is larger than the limit of ${limit} bytes`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > limit) {
          done = true;
          chunks.length = 0;
          req.pause();
          reject(new Refusal(413, `body larger than the limit of ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      });
      req.on('error', (error) => {
        if (done) return;
        done = true;
        reject(new Refusal(400, `request body could not be read: ${error.message}`));
      });
    });
  }
}
