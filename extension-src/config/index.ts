/**
 * The extension's whole configuration: one typed object read once at start
 * from OBSERVED_* variables with the one reader (env/reader.ts). Every module
 * gets only its part; each exporter reads its own settings in its config.ts.
 * Bad values never stop the extension: each one becomes one warning line
 * (naming the variable and the accepted values) and the default is used. The
 * table of every variable is in README.md, "Configuration".
 */
import { ConfigReader, type Env } from '../env/reader.js';
import { type OpenSearchOptions, readOpenSearchOptions } from '../exporters/opensearch/config.js';
import { type OtlpExporterConfig, readOtlpOptions } from '../exporters/otlp-http/config.js';
import { type RemoteWriteOptions, readRemoteWriteOptions } from '../exporters/prometheus-remote-write/config.js';
import { type PushgatewayOptions, readPushgatewayOptions } from '../exporters/pushgateway/config.js';
import { readTelemetrySubscription, type TelemetrySubscription } from '../platform/subscription.js';
import { LOG_LEVELS, type LogLevel } from '../self-telemetry/log.js';

export type { Env } from '../env/reader.js';

export type FlushStrategy =
  | { readonly kind: 'end-of-invocation' }
  | { readonly kind: 'periodic'; readonly intervalMs: number }
  | { readonly kind: 'adaptive' };

export interface FlushConfig {
  readonly strategy: FlushStrategy;
  /** Adaptive: the longest data may wait in the extension while the environment runs (OBSERVED_FLUSH_MAX_AGE_MS). */
  readonly maxAgeMs: number;
  /** Longest flush at the end of an invocation (OBSERVED_FLUSH_TIMEOUT_MS); also bounded by the invocation deadline. */
  readonly timeoutMs: number;
}

export interface BufferLimits {
  /** Per signal: encoded OTLP bytes held (OBSERVED_BUFFER_MAX_BYTES). */
  readonly maxBytes: number;
  /** Per signal: spans, data points or log records held (OBSERVED_BUFFER_MAX_ITEMS). */
  readonly maxItems: number;
}

export interface ReceiverConfig {
  /** OBSERVED_RECEIVER_PORT (OTLP/HTTP). */
  readonly port: number;
  /** OBSERVED_RECEIVER_GRPC_PORT (OTLP/gRPC). */
  readonly grpcPort: number;
  /** Largest request body as sent (OBSERVED_RECEIVER_MAX_BODY_BYTES). */
  readonly maxBodyBytes: number;
  /** Largest body after gzip decompression (OBSERVED_RECEIVER_MAX_DECOMPRESSED_BYTES). */
  readonly maxDecompressedBytes: number;
}

export interface ExtensionConfig {
  readonly logLevel: LogLevel;
  readonly flush: FlushConfig;
  readonly buffer: BufferLimits;
  readonly receiver: ReceiverConfig;
  readonly telemetry: TelemetrySubscription;
  /** Export the extension's own counters as OTLP metrics (OBSERVED_SELF_METRICS). */
  readonly selfMetrics: boolean;
  /** Exporters: each is present only when its destination variable is set and valid. */
  readonly otlp?: OtlpExporterConfig;
  readonly remoteWrite?: RemoteWriteOptions;
  readonly pushgateway?: PushgatewayOptions;
  readonly openSearch?: OpenSearchOptions;
}

export interface LoadedConfig {
  readonly config: ExtensionConfig;
  /** One line per unusable value, ready to log. */
  readonly warnings: string[];
}

export const DEFAULTS = {
  logLevel: 'info' as LogLevel,
  receiverPort: 4318,
  grpcPort: 4317,
  maxBodyBytes: 4 * 1024 * 1024,
  maxDecompressedBytes: 16 * 1024 * 1024,
  bufferMaxBytes: 4 * 1024 * 1024,
  bufferMaxItems: 20_000,
  flushMaxAgeMs: 5_000,
  flushTimeoutMs: 2_000,
};

const FLUSH_ACCEPTED = 'end-of-invocation, periodic:<ms> (an integer from 10 to 3600000), adaptive';

function parseFlush(reader: ConfigReader): FlushStrategy {
  const raw = reader.raw('OBSERVED_FLUSH');
  if (raw === undefined) return { kind: 'adaptive' };
  const value = raw.toLowerCase();
  if (value === 'end-of-invocation' || value === 'adaptive') return { kind: value };
  const periodic = /^periodic:(\d+)$/.exec(value);
  if (periodic) {
    const intervalMs = Number(periodic[1]);
    if (intervalMs >= 10 && intervalMs <= 3_600_000) return { kind: 'periodic', intervalMs };
  }
  reader.warn('OBSERVED_FLUSH', raw, FLUSH_ACCEPTED, 'using adaptive');
  return { kind: 'adaptive' };
}

/** Reads the configuration; never throws. */
export function loadConfig(env: Env = process.env): LoadedConfig {
  const reader = new ConfigReader(env);
  const flushStrategy = parseFlush(reader);
  const config: ExtensionConfig = {
    logLevel: reader.oneOf('OBSERVED_LOG_LEVEL', LOG_LEVELS, DEFAULTS.logLevel),
    flush: {
      strategy: flushStrategy,
      maxAgeMs: reader.integer('OBSERVED_FLUSH_MAX_AGE_MS', DEFAULTS.flushMaxAgeMs, 100, 3_600_000),
      timeoutMs: reader.integer('OBSERVED_FLUSH_TIMEOUT_MS', DEFAULTS.flushTimeoutMs, 10, 900_000),
    },
    buffer: {
      maxBytes: reader.integer('OBSERVED_BUFFER_MAX_BYTES', DEFAULTS.bufferMaxBytes, 65_536, 1024 * 1024 * 1024),
      maxItems: reader.integer('OBSERVED_BUFFER_MAX_ITEMS', DEFAULTS.bufferMaxItems, 100, 10_000_000),
    },
    receiver: {
      port: reader.integer('OBSERVED_RECEIVER_PORT', DEFAULTS.receiverPort, 0, 65_535),
      grpcPort: reader.integer('OBSERVED_RECEIVER_GRPC_PORT', DEFAULTS.grpcPort, 0, 65_535),
      maxBodyBytes: reader.integer('OBSERVED_RECEIVER_MAX_BODY_BYTES', DEFAULTS.maxBodyBytes, 1024, 256 * 1024 * 1024),
      maxDecompressedBytes: reader.integer(
        'OBSERVED_RECEIVER_MAX_DECOMPRESSED_BYTES',
        DEFAULTS.maxDecompressedBytes,
        1024,
        1024 * 1024 * 1024,
      ),
    },
    telemetry: readTelemetrySubscription(reader),
    selfMetrics: reader.boolean('OBSERVED_SELF_METRICS', true),
    otlp: readOtlpOptions(reader),
    remoteWrite: readRemoteWriteOptions(reader),
    pushgateway: readPushgatewayOptions(reader),
    openSearch: readOpenSearchOptions(reader),
  };
  return { config, warnings: dedupe(reader.warnings) };
}

/** Remote write and Pushgateway share the OBSERVED_PROMETHEUS_* settings: say each problem once. */
function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
