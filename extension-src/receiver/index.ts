/**
 * The receivers the extension runs: OTLP/HTTP (with the flushed notice) and
 * OTLP/gRPC. Each takes valid requests of the function's telemetry and hands
 * them to the pipeline as protobuf. To add one, implement `Receiver` and add
 * it to `createReceivers`; a receiver that cannot start is logged, never fatal.
 */
import type { ExtensionConfig } from '../config/index.js';
import type { OtlpPayload } from '../exporters/types.js';
import type { Logger } from '../self/log.js';
import { GrpcReceiver } from './grpc/server.js';
import { HttpReceiver } from './http/server.js';

export interface Receiver {
  readonly name: string;
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface ReceiverContext {
  readonly config: ExtensionConfig;
  readonly log: Logger;
  readonly accept: (payload: OtlpPayload) => void;
  readonly flushed: (requestId: string) => void;
}

export function createReceivers({ config, log, accept, flushed }: ReceiverContext): Receiver[] {
  const http = new HttpReceiver({
    port: config.receiver.port,
    maxBodyBytes: config.receiver.maxBodyBytes,
    maxDecompressedBytes: config.receiver.maxDecompressedBytes,
    sink: { accept, flushed },
    log,
  });
  const grpc = new GrpcReceiver({
    port: config.receiver.grpcPort,
    maxMessageBytes: config.receiver.maxDecompressedBytes,
    sink: (payload) => accept(payload),
    log: (message) => log.warn(message),
  });
  return [
    { name: 'otlp-http', start: () => http.start(), stop: () => http.stop() },
    { name: 'otlp-grpc', start: () => grpc.start(), stop: () => grpc.stop() },
  ];
}
