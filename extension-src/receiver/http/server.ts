/**
 * OTLP/HTTP receiver on loopback (127.0.0.1, and ::1 where it exists):
 * POST /v1/traces, /v1/metrics, /v1/logs in protobuf or JSON, optionally
 * gzip, plus the function's "flushed" notice (POST /observed/v1/flushed,
 * `{"requestId": "..."}` and the invocation's trace fields, answered 204).
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
import type { OtlpPayload } from '../../contracts/payload.js';
import { errorCode } from '../../io/error-code.js';
import { DecompressedTooLargeError, gunzipLimited } from '../../io/gunzip.js';
import { HttpServer, type Reply, type RequestHead, type Route } from '../../io/http-server.js';
import { jsonToProtobuf, OtlpJsonError } from '../../otlp/json.js';
import { type FunctionTrace, functionTraceFromNotice } from '../../otlp/trace-context.js';
import type { Signal } from '../../otlp/types.js';
import { validateRequest } from '../../otlp/validate.js';
import type { Logger } from '../../self-telemetry/log.js';
import { WireFormatError } from '../../wire/error.js';

export const FLUSHED_PATH = '/observed/v1/flushed';
/** The function's first invocation says where it sits in its trace as it starts (same body as the flushed notice). */
export const STARTED_PATH = '/observed/v1/started';

const SIGNAL_PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

/** gRPC status codes carried in google.rpc.Status bodies. */
const STATUS_CODES: Record<number, number> = { 400: 3, 404: 5, 405: 12, 413: 8, 415: 3, 500: 13 };

export interface ReceiverSink {
  /** A valid request of the function's telemetry, as protobuf. */
  accept(payload: OtlpPayload): void;
  /** The function's SDK has flushed everything for this request id; `trace` says where the invocation sits in its trace. */
  flushed(requestId: string, trace?: FunctionTrace): void;
  /** The function's wrapper began this request here in its trace (sent on an environment's first invocation). */
  started?(requestId: string, trace: FunctionTrace): void;
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

/** The flushed notice is a small JSON object. */
const NOTICE_MAX_BYTES = 4096;

export class HttpReceiver {
  readonly stats: HttpReceiverStats = { accepted: 0, refused: {} };
  private readonly servers: HttpServer[] = [];

  constructor(private readonly options: HttpReceiverOptions) {}

  /** The port listened on (useful when started with port 0), once started. */
  get port(): number | undefined {
    return this.servers[0]?.port;
  }

  get listening(): boolean {
    return this.servers.length > 0;
  }

  /** Listens on every loopback address it can; a taken port is logged, not fatal. */
  async start(): Promise<this> {
    let port = this.options.port;
    for (const host of this.options.hosts ?? ['127.0.0.1', '::1']) {
      // Requests on one connection are taken strictly in order (the server reads the next only once the
      // previous is answered), so the function's flushed notice written right behind its exports comes after them.
      const server = new HttpServer({
        route: (head) => this.route(head),
        onError: (error) => this.options.log.once('receiver-error', 'error', `OTLP/HTTP receiver: ${String(error)}`),
      });
      try {
        port = await server.listen(port, host);
      } catch (error) {
        const code = errorCode(error);
        if (host === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) {
          this.options.log.debug(`OTLP/HTTP receiver: no ::1 here (${code})`);
        } else {
          this.options.log.warn(
            `OTLP/HTTP receiver cannot listen on ${host}:${port} (${code ?? (error as Error).message}); set OBSERVED_RECEIVER_PORT to a free port (accepted values: 0 to 65535). The function's telemetry cannot reach the extension on this address`,
          );
        }
        continue;
      }
      this.servers.push(server);
    }
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers.length = 0;
  }

  private route(head: RequestHead): Route {
    const format = formatOf(mediaType(head.headers['content-type']));
    const refuse = (status: number, message: string): Route => ({ reply: this.refusal(head, status, message, format) });
    const tooLarge = (limit: number, declared: number | undefined) =>
      this.refusal(
        head,
        413,
        declared !== undefined
          ? `body of ${declared} bytes is larger than the limit of ${limit} bytes`
          : `body larger than the limit of ${limit} bytes`,
        format,
      );
    const answer = async (work: () => Promise<Buffer | undefined>): Promise<Reply> => {
      try {
        const body = await work();
        if (body === undefined) return { status: 204 };
        this.stats.accepted++;
        return {
          status: 200,
          headers: { 'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf' },
          body,
        };
      } catch (error) {
        if (error instanceof Refusal) return this.refusal(head, error.status, error.message, format);
        throw error;
      }
    };
    if (head.path === FLUSHED_PATH || head.path === STARTED_PATH) {
      if (head.method !== 'POST') return refuse(405, `${head.method} is not allowed; use POST`);
      const started = head.path === STARTED_PATH;
      return {
        maxBodyBytes: NOTICE_MAX_BYTES,
        tooLarge,
        handle: (body) => answer(async () => this.notice(body, started)),
      };
    }
    const signal = SIGNAL_PATHS[head.path];
    if (!signal) return refuse(404, `no such path ${head.path}; OTLP paths are /v1/traces, /v1/metrics, /v1/logs`);
    if (head.method !== 'POST') return refuse(405, `${head.method} is not allowed; use POST`);
    if (!format) {
      return refuse(
        415,
        `content type ${head.headers['content-type'] ?? '(none)'} is not supported; use application/x-protobuf or application/json`,
      );
    }
    const encoding = (head.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    if (encoding !== 'identity' && encoding !== 'gzip') {
      return refuse(415, `content encoding ${encoding} is not supported; use gzip or none`);
    }
    return {
      maxBodyBytes: this.options.maxBodyBytes,
      tooLarge,
      handle: (body) => answer(() => this.export(signal, format, encoding === 'gzip', body)),
    };
  }

  private refusal(head: RequestHead, status: number, message: string, format: Format | undefined): Reply {
    this.stats.refused[status] = (this.stats.refused[status] ?? 0) + 1;
    this.options.log.debug(`OTLP/HTTP receiver: ${status} for ${head.method} ${head.target}: ${message}`);
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
    return { status, headers, body };
  }

  private notice(body: Buffer, started: boolean): undefined {
    let notice: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (parsed && typeof parsed === 'object') notice = parsed as Record<string, unknown>;
    } catch {
      // Refused below, as a notice without a request id.
    }
    const { requestId } = notice;
    if (typeof requestId !== 'string' || requestId === '') {
      throw new Refusal(400, 'expected a JSON body {"requestId": "<aws request id>"}');
    }
    const trace = functionTraceFromNotice(notice);
    if (!started) this.options.sink.flushed(requestId, trace);
    else if (trace) this.options.sink.started?.(requestId, trace);
    else throw new Refusal(400, 'expected the trace fields traceId and spanId (hex) with the request id');
    return undefined;
  }

  /** Resolves with the response body, or rejects with a Refusal. */
  private async export(signal: Signal, format: Format, gzip: boolean, received: Buffer): Promise<Buffer> {
    let body = received;
    if (gzip) {
      try {
        body = await gunzipLimited(body, this.options.maxDecompressedBytes);
      } catch (error) {
        if (error instanceof DecompressedTooLargeError) throw new Refusal(413, error.message);
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
}
