/**
 * OTLP protobuf codec built from the official opentelemetry-proto definitions
 * (compiled by the OpenTelemetry JS project into static protobufjs code).
 *
 * 64-bit integers decode to `Long` so nanosecond timestamps stay exact; the
 * bundle cannot find `long` at run time by itself, so it is wired in here.
 * Metrics requests decode their fixed64 fields (counts, bucket counts, integer
 * values) to plain numbers where that is exact, below 2^53: a histogram point
 * carries a dozen of them, and a Long object each was most of the garbage of
 * translating metrics. Timestamps (nanoseconds, above 2^53) stay Longs.
 */
import Long from 'long';
import generatedRoot from 'otlp-protos/build/src/generated/root.js';
import $protobuf from 'protobufjs/minimal.js';
import type { RequestBySignal, Signal } from './types.js';

$protobuf.util.Long = Long;
$protobuf.configure();

/** 2^53 / 2^32: a 64-bit value whose high word is below this is exact as a double. */
const EXACT_HIGH = 0x200000;

type ReaderState = { buf: Uint8Array; pos: number; len: number };

function checkRoom(reader: ReaderState): number {
  const at = reader.pos;
  if (at + 8 > reader.len) throw new RangeError(`index out of range: ${at} + 8 > ${reader.len}`);
  reader.pos = at + 8;
  return at;
}

/** fixed64 and sfixed64 as numbers where exact (else Long, as protobufjs gives them). */
const exactNumberMethods = {
  fixed64(this: ReaderState): Long | number {
    const at = checkRoom(this);
    const buf = this.buf;
    const low = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
    const high = (buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24)) >>> 0;
    return high < EXACT_HIGH ? high * 4294967296 + low : Long.fromBits(low, high, true);
  },
  sfixed64(this: ReaderState): Long | number {
    const at = checkRoom(this);
    const buf = this.buf;
    const low = (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
    const high = buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24);
    return high < EXACT_HIGH && high >= -EXACT_HIGH ? high * 4294967296 + low : Long.fromBits(low, high, false);
  },
};

// Two subclasses, as protobufjs has: Buffers keep the BufferReader's native UTF-8 decoding of strings.
class ExactNumberReader extends $protobuf.Reader {}
class ExactNumberBufferReader extends $protobuf.BufferReader {}
Object.assign(ExactNumberReader.prototype, exactNumberMethods);
Object.assign(ExactNumberBufferReader.prototype, exactNumberMethods);

function metricsReader(bytes: Uint8Array): $protobuf.Reader {
  return Buffer.isBuffer(bytes) ? new ExactNumberBufferReader(bytes) : new ExactNumberReader(bytes);
}

interface MessageType<T> {
  decode(reader: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
  fromObject(object: Record<string, unknown>): T;
  toObject(message: T, options?: Record<string, unknown>): Record<string, unknown>;
  verify(message: Record<string, unknown>): string | null;
}

// biome-ignore lint/suspicious/noExplicitAny: the generated root has no type declarations.
const proto = (generatedRoot as any).opentelemetry.proto;

const REQUEST_TYPES: { [S in Signal]: MessageType<RequestBySignal[S]> } = {
  traces: proto.collector.trace.v1.ExportTraceServiceRequest,
  metrics: proto.collector.metrics.v1.ExportMetricsServiceRequest,
  logs: proto.collector.logs.v1.ExportLogsServiceRequest,
};

const RESPONSE_TYPES: { [S in Signal]: MessageType<Record<string, unknown>> } = {
  traces: proto.collector.trace.v1.ExportTraceServiceResponse,
  metrics: proto.collector.metrics.v1.ExportMetricsServiceResponse,
  logs: proto.collector.logs.v1.ExportLogsServiceResponse,
};

/** Decodes an OTLP export request; throws on malformed protobuf. */
export function decodeRequest<S extends Signal>(signal: S, bytes: Uint8Array): RequestBySignal[S] {
  const input = signal === 'metrics' ? metricsReader(bytes) : bytes;
  return REQUEST_TYPES[signal].decode(input as Uint8Array) as RequestBySignal[S];
}

/** Encodes an OTLP export request as protobuf. */
export function encodeRequest<S extends Signal>(signal: S, request: RequestBySignal[S]): Uint8Array {
  const type = REQUEST_TYPES[signal];
  return type.encode(type.fromObject(request as unknown as Record<string, unknown>)).finish();
}

/** Encodes an (empty, successful) OTLP export response as protobuf. */
export function encodeResponse(signal: Signal, response: Record<string, unknown> = {}): Uint8Array {
  const type = RESPONSE_TYPES[signal];
  return type.encode(type.fromObject(response)).finish();
}

export const messageTypes = { request: REQUEST_TYPES, response: RESPONSE_TYPES, proto };
