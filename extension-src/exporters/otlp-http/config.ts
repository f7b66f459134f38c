/**
 * OTLP/HTTP exporter settings from the environment, the same meanings as the
 * OTEL_EXPORTER_OTLP_* variables they mirror:
 *
 * - OBSERVED_OTLP_ENDPOINT: base URL; `/v1/traces`, `/v1/metrics` and
 *   `/v1/logs` are appended. OBSERVED_OTLP_<SIGNAL>_ENDPOINT: one signal's
 *   full URL, used as given. Neither set disables the exporter.
 * - OBSERVED_OTLP_PROTOCOL: `http/protobuf` (default) or `http/json`.
 * - OBSERVED_OTLP_HEADERS: `key=value,...`, percent-encoded;
 *   OBSERVED_OTLP_HEADERS_SECRET_ARN: more headers from Secrets Manager or SSM.
 * - OBSERVED_OTLP_COMPRESSION: `gzip` or `none` (default).
 * - OBSERVED_OTLP_TIMEOUT: milliseconds per HTTP attempt.
 * - OBSERVED_OTLP_MAX_REQUEST_BYTES: larger queues are sent in several requests.
 */
import { readSecretSources, type SecretSource } from '../../aws/secrets.js';
import { type ConfigReader, type Env, type Parsed, readFrom } from '../../env/reader.js';
import type { Signal } from '../../otlp/types.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpExporterConfig {
  /** Where each signal goes: `<OBSERVED_OTLP_ENDPOINT>/v1/<signal>`, or the per-signal variable. */
  readonly urls: { readonly [S in Signal]?: URL };
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  /** ARN of a Secrets Manager secret or SSM parameter holding more headers (resolved at start; see aws/secrets.ts). */
  readonly headersSecretArn?: string;
  /** The headers secret as read at start (aws/secrets.ts). */
  readonly secrets?: readonly SecretSource[];
  readonly compression: 'gzip' | 'none';
  /** Per HTTP attempt (OBSERVED_OTLP_TIMEOUT, milliseconds as OTEL_EXPORTER_OTLP_TIMEOUT). */
  readonly timeoutMs: number;
  /** Largest request body before compression; larger queues are sent in several requests. */
  readonly maxRequestBytes: number;
}

export const OTLP_DEFAULTS = {
  timeoutMs: 10_000,
  maxRequestBytes: 4 * 1024 * 1024,
};

const SIGNAL_PATHS: Record<Signal, string> = { traces: 'v1/traces', metrics: 'v1/metrics', logs: 'v1/logs' };
const SIGNAL_VARIABLES: Record<Signal, string> = {
  traces: 'OBSERVED_OTLP_TRACES_ENDPOINT',
  metrics: 'OBSERVED_OTLP_METRICS_ENDPOINT',
  logs: 'OBSERVED_OTLP_LOGS_ENDPOINT',
};

/** undefined options when no OTLP endpoint is set or usable (the warning says why). */
export function parseOtlpOptions(env: Env): Parsed<OtlpExporterConfig | undefined> {
  return readFrom(env, readOtlpOptions);
}

export function readOtlpOptions(reader: ConfigReader): OtlpExporterConfig | undefined {
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
  const secrets = readSecretSources(reader, 'OBSERVED_OTLP', ['headers']);
  if (Object.keys(urls).length === 0) return undefined;
  return {
    urls,
    protocol: reader.oneOf<OtlpProtocol>('OBSERVED_OTLP_PROTOCOL', ['http/protobuf', 'http/json'], 'http/protobuf'),
    headers: Object.fromEntries(reader.keyValues('OBSERVED_OTLP_HEADERS').map(([k, v]) => [k.toLowerCase(), v])),
    headersSecretArn: secrets[0]?.arn,
    secrets,
    compression: reader.oneOf('OBSERVED_OTLP_COMPRESSION', ['gzip', 'none'] as const, 'none'),
    timeoutMs: reader.integer('OBSERVED_OTLP_TIMEOUT', OTLP_DEFAULTS.timeoutMs, 1, 600_000),
    maxRequestBytes: reader.integer(
      'OBSERVED_OTLP_MAX_REQUEST_BYTES',
      OTLP_DEFAULTS.maxRequestBytes,
      1024,
      64 * 1024 * 1024,
    ),
  };
}
