/**
 * The fuzz targets: each receiver decoder of the extension, driven as the
 * extension drives it, with long-lived module state kept across inputs.
 *
 * - otlp-protobuf: OTLP requests of every signal through the item counter the
 *   receivers use, the protobuf decoder, resource enrichment, and the
 *   remote write, Pushgateway and OpenSearch exporters' enqueue (which must
 *   never throw and must stay within their queue bounds).
 * - telemetry-api-json: Telemetry API POST bodies into the platform module
 *   (never throws; open invocations stay bounded).
 * - grpc-framing and gzip: the real OTLP/gRPC receiver on loopback, with
 *   hostile framing (length lies, flags, extra frames, oversize bodies) and
 *   hostile gzip (corrupt streams, decompression bombs); every call must end
 *   with a gRPC status, accepted payloads must be valid, and the receiver's
 *   accepted + rejected counts must equal the calls made.
 */
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import type { Exporter } from '../extension-src/contracts/exporter.js';
import { parseOpenSearchOptions } from '../extension-src/exporters/opensearch/config.js';
import { OpenSearchExporter } from '../extension-src/exporters/opensearch/exporter.js';
import { parseRemoteWriteOptions } from '../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../extension-src/exporters/prometheus-remote-write/exporter.js';
import { parsePushgatewayOptions } from '../extension-src/exporters/pushgateway/config.js';
import { PushgatewayExporter } from '../extension-src/exporters/pushgateway/exporter.js';
import { decodeRequest } from '../extension-src/otlp/proto.js';
import { SIGNALS, type Signal } from '../extension-src/otlp/types.js';
import { PlatformTelemetry } from '../extension-src/platform/index.js';
import { countOtlpItems } from '../extension-src/receiver/grpc/otlp-items.js';
import { GrpcReceiver, GrpcStatus } from '../extension-src/receiver/grpc/server.js';
import { enrichPayload } from '../extension-src/resource/enrich.js';
import { silentLogger } from '../extension-src/self-telemetry/log.js';
import { WireFormatError } from '../extension-src/wire/error.js';
import type { FuzzTarget } from './engine.js';
import { httpClientTarget, httpServerTarget } from './http-targets.js';
import { otlpLogs, otlpMetrics, otlpTraces, telemetryBatches } from './seeds.js';

const quiet = () => {};
/** Nothing listens there: the exporters only queue (nothing is flushed in these targets). */
const NOWHERE = 'http://127.0.0.1:9';

/** Errors a decoder may throw for malformed input (anything else escaping is a crash). */
function isDecodeError(error: unknown): boolean {
  if (error instanceof WireFormatError) return true;
  // protobufjs reports malformed input with plain Error / RangeError ("index out of range", "invalid wire type").
  return error instanceof Error && (error.constructor === Error || error.constructor === RangeError);
}

const DETECTED = [
  { key: 'faas.name', value: { stringValue: 'orders' } },
  { key: 'cloud.region', value: { stringValue: 'eu-west-1' } },
];

export function otlpProtobufTarget(): FuzzTarget {
  let exporters: { exporter: Exporter; bound: number }[] = [];
  const counts = { inputs: 0, decoded: 0, rejected: 0 };
  return {
    name: 'otlp-protobuf',
    description:
      'OTLP protobuf requests: item counter, decoder, resource enrichment, remote write / Pushgateway / OpenSearch enqueue',
    kind: 'proto',
    seeds: () => [otlpTraces(), otlpMetrics(), otlpLogs()],
    async setup() {
      const rw = parseRemoteWriteOptions({ OBSERVED_REMOTE_WRITE_URL: `${NOWHERE}/api/v1/write` }).options;
      const pg = parsePushgatewayOptions({ OBSERVED_PUSHGATEWAY_URL: NOWHERE }).options;
      const os = parseOpenSearchOptions({
        OBSERVED_OPENSEARCH_ENDPOINT: NOWHERE,
        OBSERVED_OPENSEARCH_TRACES_INDEX: 'traces',
      }).options;
      if (!rw || !pg || !os) throw new Error('exporter options did not parse');
      exporters = [
        { exporter: new RemoteWriteExporter(rw, { log: silentLogger }), bound: rw.maxQueuedSamples },
        { exporter: new PushgatewayExporter(pg, { log: silentLogger }), bound: Number.POSITIVE_INFINITY },
        { exporter: new OpenSearchExporter(os, { log: silentLogger }), bound: os.maxQueuedDocuments },
      ];
    },
    run(input) {
      counts.inputs++;
      for (const signal of SIGNALS) {
        let items: number;
        try {
          items = countOtlpItems(signal, input);
        } catch (error) {
          if (!(error instanceof WireFormatError)) throw error;
          counts.rejected++;
          continue;
        }
        try {
          decodeRequest(signal, input);
          enrichPayload(input, DETECTED);
          counts.decoded++;
        } catch (error) {
          if (!isDecodeError(error)) throw error;
        }
        // The pipeline hands exporters what the receiver accepted; enqueue never throws.
        for (const { exporter, bound } of exporters) {
          exporter.enqueue({ signal, bytes: input, items });
          if (exporter.pendingItems() > bound) {
            throw new Error(`${exporter.name} holds ${exporter.pendingItems()} items, over its bound ${bound}`);
          }
        }
      }
    },
    stats: () => ({
      ...counts,
      ...Object.fromEntries(exporters.map((e) => [`${e.exporter.name}_pending`, e.exporter.pendingItems()])),
    }),
  };
}

export function telemetryApiTarget(): FuzzTarget {
  let platform: PlatformTelemetry | undefined;
  const counts = { inputs: 0, notJson: 0, emitted: 0 };
  const maxOpen = 1_000;
  return {
    name: 'telemetry-api-json',
    description: 'Telemetry API POST bodies into the platform module (events to metrics, spans, logs)',
    kind: 'json',
    seeds: telemetryBatches,
    async setup() {
      platform = new PlatformTelemetry({
        resource: () => DETECTED,
        emit: () => {
          counts.emitted++;
        },
        maxOpen,
      });
    },
    run(input) {
      counts.inputs++;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.from(input).toString('utf8'));
      } catch {
        // The listener answers 400 to bodies that are not JSON; the platform module never sees them.
        counts.notJson++;
        return;
      }
      const p = platform as PlatformTelemetry;
      p.handleEvents(body);
      if (counts.inputs % 50 === 0) p.flush();
      const open = p.stats().open;
      if (open > maxOpen) throw new Error(`${open} open invocation records, over the bound ${maxOpen}`);
    },
    async check() {
      platform?.flush({ final: true });
      return [];
    },
    stats: () => ({ ...counts, ...(platform?.stats() ?? {}) }),
  };
}

const MAX_MESSAGE = 256 * 1024;
const METHOD: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

function frame(flag: number, message: Uint8Array, lengthDelta = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(Math.max(0, message.length + lengthDelta), 1);
  return Buffer.concat([head, message]);
}

interface GrpcCall {
  headers: Record<string, string>;
  body: Buffer;
  /** Sent in this many DATA writes. */
  chunks: number;
}

/** A loopback client and the real receiver; counts calls and checks every answer. */
class GrpcHarness {
  receiver: GrpcReceiver | undefined;
  client: http2.ClientHttp2Session | undefined;
  calls = 0;
  statuses: Record<string, number> = {};
  badAccepted = 0;

  async start(): Promise<void> {
    this.receiver = await new GrpcReceiver({
      port: 0,
      hosts: ['127.0.0.1'],
      maxMessageBytes: MAX_MESSAGE,
      log: quiet,
      sink: (payload) => {
        // Whatever is accepted must be a valid request whose item count is right.
        try {
          if (countOtlpItems(payload.signal, payload.bytes) !== payload.items) this.badAccepted++;
        } catch {
          this.badAccepted++;
        }
        return true;
      },
    }).start();
  }

  private session(): http2.ClientHttp2Session {
    if (!this.client || this.client.destroyed || this.client.closed) {
      this.client = http2.connect(`http://127.0.0.1:${this.receiver?.port}`);
      this.client.on('error', () => {});
    }
    return this.client;
  }

  call(signal: Signal, call: GrpcCall): Promise<void> {
    this.calls++;
    return new Promise((resolve, reject) => {
      const stream = this.session().request({
        ':method': 'POST',
        ':path': METHOD[signal],
        'content-type': 'application/grpc',
        te: 'trailers',
        ...call.headers,
      });
      let status: string | undefined;
      const note = (h: http2.IncomingHttpHeaders) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      };
      stream.on('response', note);
      stream.on('trailers', note);
      stream.on('data', () => {});
      stream.on('error', () => {});
      stream.on('close', () => {
        if (status === undefined) {
          // A stream the server reset after refusing an oversize body is an answer too.
          if (stream.rstCode !== undefined && stream.rstCode !== 0 && call.body.length > MAX_MESSAGE) {
            this.statuses.reset = (this.statuses.reset ?? 0) + 1;
            resolve();
            return;
          }
          reject(new Error(`gRPC call ended without a grpc-status (rst ${stream.rstCode}, ${call.body.length} bytes)`));
          return;
        }
        this.statuses[status] = (this.statuses[status] ?? 0) + 1;
        resolve();
      });
      const size = Math.ceil(call.body.length / call.chunks) || 1;
      for (let at = 0; at < call.body.length; at += size) stream.write(call.body.subarray(at, at + size));
      stream.end();
    });
  }

  async check(): Promise<string[]> {
    const problems: string[] = [];
    const stats = this.receiver?.stats ?? { accepted: 0, rejected: 0 };
    const answered = Object.values(this.statuses).reduce((a, b) => a + b, 0);
    if (answered !== this.calls) problems.push(`${this.calls} calls but ${answered} answers`);
    if (stats.accepted !== (this.statuses[String(GrpcStatus.OK)] ?? 0)) {
      problems.push(`receiver counted ${stats.accepted} accepted, clients saw ${this.statuses['0'] ?? 0} OK`);
    }
    if (stats.accepted + stats.rejected !== this.calls) {
      problems.push(`receiver counted ${stats.accepted} + ${stats.rejected}, ${this.calls} calls were made`);
    }
    if (this.badAccepted > 0) problems.push(`${this.badAccepted} invalid payloads reached the sink`);
    return problems;
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    await this.receiver?.stop();
  }
}

const variant = (input: Uint8Array) => createHash('sha1').update(input).digest();

export function grpcFramingTarget(): FuzzTarget {
  const harness = new GrpcHarness();
  return {
    name: 'grpc-framing',
    description:
      'the OTLP/gRPC receiver on loopback: length-prefixed frames with lying lengths, flags, extra frames, oversize bodies, split writes',
    kind: 'proto',
    seeds: () => [otlpTraces(), otlpMetrics(), otlpLogs()],
    setup: () => harness.start(),
    async run(input) {
      // The framing is chosen from the input's hash, so a crash input reproduces alone.
      const h = variant(input);
      const signal = SIGNALS[h[0] % 3];
      let body: Buffer;
      const headers: Record<string, string> = {};
      switch (h[1] % 8) {
        case 0:
          body = frame(0, input, [1, -1, 1000, -5][h[2] % 4]);
          break;
        case 1:
          body = Buffer.concat([frame(0, input), frame(0, input)]);
          break;
        case 2:
          body = frame(h[2] % 4, input);
          break;
        case 3:
          body = Buffer.from(input).subarray(0, h[2] % 8);
          break;
        case 4:
          // Over the size limit: the receiver must refuse without buffering it all.
          body = frame(0, Buffer.concat([input, Buffer.alloc(MAX_MESSAGE)]));
          break;
        default:
          body = frame(0, input);
      }
      if (h[3] % 5 === 0) headers['grpc-encoding'] = ['gzip', 'deflate', 'snappy', 'identity'][h[4] % 4];
      if (h[3] % 7 === 0) headers['content-type'] = 'application/grpc+json';
      await harness.call(signal, { headers, body, chunks: 1 + (h[5] % 4) * (h[6] % 16) });
    },
    check: () => harness.check(),
    teardown: () => harness.stop(),
    stats: () => ({ calls: harness.calls, ...harness.statuses }),
  };
}

export function gzipTarget(): FuzzTarget {
  const harness = new GrpcHarness();
  // Highly compressible: 64 MiB of zeros is a 64 KiB gzip stream (a decompression bomb against a 256 KiB limit).
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
  return {
    name: 'gzip',
    description:
      'gzip-compressed OTLP messages into the OTLP/gRPC receiver: corrupt streams, truncation, decompression bombs',
    kind: 'bytes',
    seeds: () => [otlpTraces(), otlpMetrics(), otlpLogs()].map((m) => gzipSync(m)).concat([bomb]),
    setup: () => harness.start(),
    async run(input) {
      const signal = SIGNALS[variant(input)[0] % 3];
      await harness.call(signal, { headers: { 'grpc-encoding': 'gzip' }, body: frame(1, input), chunks: 1 });
    },
    check: () => harness.check(),
    teardown: () => harness.stop(),
    stats: () => ({ calls: harness.calls, ...harness.statuses }),
  };
}

export function allTargets(): FuzzTarget[] {
  return [
    otlpProtobufTarget(),
    telemetryApiTarget(),
    grpcFramingTarget(),
    gzipTarget(),
    httpServerTarget(),
    httpClientTarget(),
  ];
}
