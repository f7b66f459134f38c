/**
 * Remote write settings from the environment:
 *
 * - OBSERVED_REMOTE_WRITE_URL: the full remote write URL (for AMP, the
 *   workspace's `.../api/v1/remote_write`); unset disables the exporter.
 * - OBSERVED_REMOTE_WRITE_SIGV4: `auto` (default: sign when the host is an AMP
 *   endpoint, aps-workspaces.<region>.amazonaws.com), `true`, `false`. The
 *   region comes from the AMP host name, else AWS_REGION.
 * - OBSERVED_REMOTE_WRITE_MAX_BYTES / _MAX_SAMPLES: request size limits
 *   (uncompressed protobuf bytes; samples and histograms).
 * - OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES / _QUEUE_BYTES: samples (and their
 *   approximate heap bytes) held while the backend is unreachable, oldest
 *   dropped (and counted) beyond either.
 * - OBSERVED_REMOTE_WRITE_STALE_SERIES: series remembered for the staleness
 *   markers sent at SHUTDOWN; the least recently written are forgotten beyond.
 * - OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES: most bytes of labels per series,
 *   counted as Cortex counts them (AMP's "label size" quota, 7 KB); a series
 *   over it is dropped and counted instead of refused by the backend.
 * - OBSERVED_REMOTE_WRITE_TIMEOUT_MS: per HTTP attempt.
 * - OBSERVED_REMOTE_WRITE_HEADERS_SECRET_ARN / _BEARER_TOKEN_SECRET_ARN /
 *   _BASIC_AUTH_SECRET_ARN: credentials from Secrets Manager or SSM (aws/secrets.ts).
 * - OBSERVED_REMOTE_WRITE_HEADERS: extra headers, `name=value,...` (e.g. a
 *   tenant header for Cortex or Mimir).
 * plus the OBSERVED_PROMETHEUS_* translation settings (../translate-settings.ts).
 */
import { regionFromEnv } from '../../aws/credentials.js';
import { readSecretSources, type SecretSource } from '../../aws/secrets.js';
import { type ConfigReader, type Env, type Parsed, readFrom } from '../../env/reader.js';
import type { TranslateOptions } from '../../translate/translator.js';
import { readTranslateOptions } from '../translate-settings.js';

export interface RemoteWriteOptions {
  readonly url: URL;
  /** Region to sign for with service "aps"; undefined sends unsigned requests. */
  readonly sigv4Region: string | undefined;
  readonly maxBytes: number;
  readonly maxSamples: number;
  readonly maxQueuedSamples: number;
  /** Approximate heap bytes of the queue. */
  readonly maxQueuedBytes: number;
  /** Series remembered for staleness markers at SHUTDOWN. */
  readonly maxStaleSeries: number;
  /** Most bytes of labels per series (each label's protobuf size, summed, as Cortex counts). */
  readonly maxLabelsBytes: number;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Secrets holding more headers, a bearer token or basic auth credentials, read at start. */
  readonly secrets?: readonly SecretSource[];
  readonly translate: TranslateOptions;
}

/**
 * Defaults follow Amazon Managed Service for Prometheus: it documents
 * `max_samples_per_send: 1000` for remote write senders and a request size
 * limit; 1 MB of uncompressed protobuf keeps far below it after snappy.
 */
export const REMOTE_WRITE_DEFAULTS = {
  maxBytes: 1_000_000,
  maxSamples: 1_000,
  maxQueuedSamples: 50_000,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxStaleSeries: 20_000,
  // Amazon Managed Service for Prometheus's quota "Label size": 7 KB per series (Cortex: max_labels_size_bytes 7168).
  maxLabelsBytes: 7168,
  timeoutMs: 5_000,
};

const AMP_HOST = /^aps-workspaces(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** undefined options when OBSERVED_REMOTE_WRITE_URL is unset or unusable (the warning says why). */
export function parseRemoteWriteOptions(env: Env): Parsed<RemoteWriteOptions | undefined> {
  return readFrom(env, readRemoteWriteOptions);
}

export function readRemoteWriteOptions(reader: ConfigReader): RemoteWriteOptions | undefined {
  const url = reader.url(
    'OBSERVED_REMOTE_WRITE_URL',
    'https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/remote_write',
    'remote write disabled',
  );
  if (!url) return undefined;
  const ampRegion = AMP_HOST.exec(url.hostname)?.[1];
  const mode = reader.oneOf('OBSERVED_REMOTE_WRITE_SIGV4', ['auto', 'true', 'false'], 'auto');
  const sign = mode === 'auto' ? ampRegion !== undefined : mode === 'true';
  let sigv4Region: string | undefined;
  if (sign) {
    sigv4Region = ampRegion ?? regionFromEnv(reader.env);
    if (!sigv4Region) {
      reader.note(
        'OBSERVED_REMOTE_WRITE_SIGV4 needs a region: set AWS_REGION (Lambda sets it) or use an aps-workspaces.<region>.amazonaws.com URL (sending unsigned)',
      );
    }
  }
  const translate = readTranslateOptions(reader);
  const defaults = REMOTE_WRITE_DEFAULTS;
  const maxSamples = reader.integer('OBSERVED_REMOTE_WRITE_MAX_SAMPLES', defaults.maxSamples);
  return {
    url,
    sigv4Region,
    maxBytes: reader.integer('OBSERVED_REMOTE_WRITE_MAX_BYTES', defaults.maxBytes, 1024),
    maxSamples,
    maxQueuedSamples: reader.integer('OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES', defaults.maxQueuedSamples, maxSamples),
    maxQueuedBytes: reader.integer(
      'OBSERVED_REMOTE_WRITE_QUEUE_BYTES',
      defaults.maxQueuedBytes,
      65_536,
      1024 * 1024 * 1024,
    ),
    maxStaleSeries: reader.integer('OBSERVED_REMOTE_WRITE_STALE_SERIES', defaults.maxStaleSeries, 1, 1_000_000),
    maxLabelsBytes: reader.integer(
      'OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES',
      defaults.maxLabelsBytes,
      256,
      16 * 1024 * 1024,
    ),
    timeoutMs: reader.integer('OBSERVED_REMOTE_WRITE_TIMEOUT_MS', defaults.timeoutMs, 100),
    headers: Object.fromEntries(
      reader.keyValues('OBSERVED_REMOTE_WRITE_HEADERS').map(([name, value]) => [name.toLowerCase(), value]),
    ),
    secrets: readSecretSources(reader, 'OBSERVED_REMOTE_WRITE', ['headers', 'bearer-token', 'basic-auth']),
    translate,
  };
}
