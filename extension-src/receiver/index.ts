/**
 * The receivers the extension runs: OTLP/HTTP (with the flushed notice) and
 * OTLP/gRPC. Each takes valid requests of the function's telemetry and hands
 * them to the pipeline as protobuf. To add one, implement `Receiver` and add
 * it to `createReceivers`; a receiver that cannot start is logged, never fatal.
 */
import type { ExtensionConfig } from '../config/index.js';
import type { OtlpPayload } from '../contracts/payload.js';
import type { FunctionTrace } from '../otlp/trace-context.js';
import type { Logger } from '../self-telemetry/log.js';
import type { GrpcReceiver } from './grpc/server.js';
import { HttpReceiver } from './http/server.js';

export interface Receiver {
  readonly name: string;
  /**
   * May start once the first /next is sent rather than before: its clients only connect during
   * invocations, and Lambda sends the first INVOKE only after that /next (the start is synchronous
   * up to binding the port, so the port is bound before the INVOKE can be read). Keeps costly
   * modules (node:http2) off the extension's start-up path.
   */
  readonly deferrable: boolean;
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export interface ReceiverContext {
  readonly config: ExtensionConfig;
  readonly log: Logger;
  readonly accept: (payload: OtlpPayload) => void;
  readonly flushed: (requestId: string, trace?: FunctionTrace) => void;
  readonly started?: (requestId: string, trace: FunctionTrace) => void;
}

export function createReceivers({ config, log, accept, flushed, started }: ReceiverContext): Receiver[] {
  const http = new HttpReceiver({
    port: config.receiver.port,
    maxBodyBytes: config.receiver.maxBodyBytes,
    maxDecompressedBytes: config.receiver.maxDecompressedBytes,
    sink: { accept, flushed, started },
    log,
  });
  let grpc: GrpcReceiver | undefined;
  return [
    { name: 'otlp-http', deferrable: false, start: () => http.start(), stop: () => http.stop() },
    {
      name: 'otlp-grpc',
      deferrable: true,
      start: async () => {
        let Grpc: typeof GrpcReceiver;
        try {
          Grpc = (require('./grpc/server.js') as typeof import('./grpc/server.js')).GrpcReceiver;
        } catch (error) {
          // LLRT (the engine of the layer for runtimes without Node.js) has no node:http2.
          log.info(
            `OTLP/gRPC receiver off: this engine has no node:http2 (${String(error)}); OTLP/HTTP on port ${config.receiver.port} takes the same data`,
          );
          return;
        }
        grpc = new Grpc({
          port: config.receiver.grpcPort,
          maxMessageBytes: config.receiver.maxDecompressedBytes,
          sink: (payload) => accept(payload),
          log: (message) => log.warn(message),
        });
        return grpc.start();
      },
      stop: async () => grpc?.stop(),
    },
  ];
}
