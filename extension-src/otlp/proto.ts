/**
 * OTLP protobuf codec built from the official opentelemetry-proto definitions
 * (compiled by the OpenTelemetry JS project into static protobufjs code).
 *
 * 64-bit integers decode to `Long` so nanosecond timestamps stay exact; the
 * bundle cannot find `long` at run time by itself, so it is wired in here.
 */
import Long from 'long';
import generatedRoot from 'otlp-protos/build/src/generated/root.js';
import $protobuf from 'protobufjs/minimal.js';
import type { RequestBySignal, Signal } from './types.js';

$protobuf.util.Long = Long;
$protobuf.configure();

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
  return REQUEST_TYPES[signal].decode(bytes) as RequestBySignal[S];
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

/** Decodes an OTLP export response (partialSuccess) as protobuf. */
export function decodeResponse(signal: Signal, bytes: Uint8Array): Record<string, unknown> {
  const type = RESPONSE_TYPES[signal];
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false });
}

export const messageTypes = { request: REQUEST_TYPES, response: RESPONSE_TYPES, proto };
