/**
 * The extension's whole configuration: one typed object read once at start
 * from OBSERVED_* variables. Every module gets only its part. Bad values
 * never stop the extension: each one becomes one warning line (naming the
 * variable and the accepted values) and the default is used. The table of
 * every variable is in README.md, "Configuration".
 */
import { type OpenSearchOptions, parseOpenSearchOptions } from '../exporters/opensearch/config.js';
import { parseRemoteWriteOptions, type RemoteWriteOptions } from '../exporters/prometheus-remote-write/config.js';
import { type PushgatewayOptions, parsePushgatewayOptions } from '../exporters/pushgateway/config.js';
import type { Signal } from '../otlp/types.js';
import { type TelemetrySubscription, telemetrySubscriptionFromEnv } from '../platform/subscription.js';
import { ConfigReader, type Env } from './parse.js';

export type { Env } from './parse.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpExporterConfig {
  /** Where each signal goes: `<OBSERVED_OTLP_ENDPOINT>/v1/<signal>`, or the per-signal variable. */
  readonly urls: { readonly [S in Signal]?: URL };
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  /** ARN of a Secrets Manager secret or SSM parameter holding more headers (resolved at start; see secrets seam). */
  readonly headersSecretArn?: string;
  readonly compression: 'gzip' | 'none';
  /** Per HTTP attempt (OBSERVED_OTLP_TIMEOUT, milliseconds as OTEL_EXPORTER_OTLP_TIMEOUT). */
  readonly timeoutMs: number;
  /** Largest request body before compression; larger queues are sent in several requests. */
  readonly maxRequestBytes: number;
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
  otlpTimeoutMs: 10_000,
  otlpMaxRequestBytes: 4 * 1024 * 1024,
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

const SIGNAL_PATHS: Record<Signal, string> = { traces: 'v1/traces', metrics: 'v1/metrics', logs: 'v1/logs' };
const SIGNAL_VARIABLES: Record<Signal, string> = {
  traces: 'OBSERVED_OTLP_TRACES_ENDPOINT',
  metrics: 'OBSERVED_OTLP_METRICS_ENDPOINT',
  logs: 'OBSERVED_OTLP_LOGS_ENDPOINT',
};

function parseOtlp(reader: ConfigReader): OtlpExporterConfig | undefined {
  const base = reader.url('OBSERVED_OTLP_ENDPOINT', 'https://otlp.example.com:4318', 'OTLP export disabled');
  const urls: { [S in Signal]?: URL } = {};
  for (const signal of Object.keys(SIGNAL_PATHS) as Signal[]) {
    // As OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT: used as given; the base URL gets /v1/<signal> appended.
    const own = reader.url(
      SIGNAL_VARIABLES[signal],
      `https://otlp.example.com:4318/${SIGNAL_PATHS[signal]}`,
      'ignored',
    );
    if (own) urls[signal] = own;
    else if (base) {
      const url = new URL(base.href);
      url.pathname = `${url.pathname.replace(/\/*$/, '/')}${SIGNAL_PATHS[signal]}`;
      urls[signal] = url;
    }
  }
  const secretArn = reader.raw('OBSERVED_OTLP_HEADERS_SECRET_ARN');
  if (secretArn !== undefined && !/^arn:aws[a-z-]*:(secretsmanager|ssm):/.test(secretArn)) {
    reader.warn(
      'OBSERVED_OTLP_HEADERS_SECRET_ARN',
      secretArn,
      'the ARN of a Secrets Manager secret or an SSM parameter',
      'ignored',
    );
  }
  if (Object.keys(urls).length === 0) return undefined;
  return {
    urls,
    protocol: reader.oneOf<OtlpProtocol>('OBSERVED_OTLP_PROTOCOL', ['http/protobuf', 'http/json'], 'http/protobuf'),
    headers: Object.fromEntries(reader.keyValues('OBSERVED_OTLP_HEADERS').map(([k, v]) => [k.toLowerCase(), v])),
    headersSecretArn: secretArn?.startsWith('arn:') ? secretArn : undefined,
    compression: reader.oneOf('OBSERVED_OTLP_COMPRESSION', ['gzip', 'none'] as const, 'none'),
    timeoutMs: reader.integer('OBSERVED_OTLP_TIMEOUT', DEFAULTS.otlpTimeoutMs, 1, 600_000),
    maxRequestBytes: reader.integer(
      'OBSERVED_OTLP_MAX_REQUEST_BYTES',
      DEFAULTS.otlpMaxRequestBytes,
      1024,
      64 * 1024 * 1024,
    ),
  };
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
    telemetry: collect(reader, telemetrySubscriptionFromEnv(env as NodeJS.ProcessEnv)).subscription,
    selfMetrics: reader.boolean('OBSERVED_SELF_METRICS', true),
    otlp: parseOtlp(reader),
    remoteWrite: collectOptions(reader, parseRemoteWriteOptions(env)),
    pushgateway: collectOptions(reader, parsePushgatewayOptions(env)),
    openSearch: collectOptions(reader, parseOpenSearchOptions(env)),
  };
  return { config, warnings: dedupe(reader.warnings) };
}

/** Modules that parse their own variables report warnings as `errors` or `warnings`; both end up in one list. */
function collect<T extends { errors: string[] }>(reader: ConfigReader, parsed: T): T {
  reader.warnings.push(...parsed.errors);
  return parsed;
}

function collectOptions<T>(reader: ConfigReader, parsed: { options: T; warnings: string[] }): T {
  reader.warnings.push(...parsed.warnings);
  return parsed.options;
}

/** Remote write and Pushgateway share the OBSERVED_PROMETHEUS_* settings: say each problem once. */
function dedupe(lines: string[]): string[] {
  return [...new Set(lines)];
}
