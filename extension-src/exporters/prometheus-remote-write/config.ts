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
 * - OBSERVED_REMOTE_WRITE_TIMEOUT_MS: per HTTP attempt.
 * - OBSERVED_REMOTE_WRITE_HEADERS: extra headers, `name=value,...` (e.g. a
 *   tenant header for Cortex or Mimir).
 * plus the OBSERVED_PROMETHEUS_* translation settings (translate/config.ts).
 */
import { regionFromEnv } from '../../aws/credentials.js';
import {
  type Env,
  type Parsed,
  parseKeyValues,
  parsePositiveInt,
  parseTranslateOptions,
} from '../../translate/config.js';
import type { TranslateOptions } from '../../translate/translator.js';

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
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
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
  timeoutMs: 5_000,
};

const AMP_HOST = /^aps-workspaces(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** undefined options when OBSERVED_REMOTE_WRITE_URL is unset or unusable (the warning says why). */
export function parseRemoteWriteOptions(env: Env): Parsed<RemoteWriteOptions | undefined> {
  const warnings: string[] = [];
  const raw = env.OBSERVED_REMOTE_WRITE_URL?.trim();
  if (!raw) return { options: undefined, warnings };
  let url: URL;
  try {
    url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    warnings.push(
      `OBSERVED_REMOTE_WRITE_URL=${raw} is not valid; accepted values: an http(s) URL such as https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/remote_write (remote write disabled)`,
    );
    return { options: undefined, warnings };
  }
  const ampRegion = AMP_HOST.exec(url.hostname)?.[1];
  const mode = (env.OBSERVED_REMOTE_WRITE_SIGV4?.trim().toLowerCase() || 'auto') as string;
  let sign: boolean;
  if (mode === 'auto') sign = ampRegion !== undefined;
  else if (mode === 'true') sign = true;
  else if (mode === 'false') sign = false;
  else {
    warnings.push(
      `OBSERVED_REMOTE_WRITE_SIGV4=${env.OBSERVED_REMOTE_WRITE_SIGV4} is not valid; accepted values: auto, true, false (using auto)`,
    );
    sign = ampRegion !== undefined;
  }
  let sigv4Region: string | undefined;
  if (sign) {
    sigv4Region = ampRegion ?? regionFromEnv(env as NodeJS.ProcessEnv);
    if (!sigv4Region) {
      warnings.push(
        'OBSERVED_REMOTE_WRITE_SIGV4 needs a region: set AWS_REGION (Lambda sets it) or use an aps-workspaces.<region>.amazonaws.com URL (sending unsigned)',
      );
    }
  }
  const translate = parseTranslateOptions(env);
  warnings.push(...translate.warnings);
  const maxBytes = parsePositiveInt(
    env,
    'OBSERVED_REMOTE_WRITE_MAX_BYTES',
    REMOTE_WRITE_DEFAULTS.maxBytes,
    warnings,
    1024,
  );
  const maxSamples = parsePositiveInt(
    env,
    'OBSERVED_REMOTE_WRITE_MAX_SAMPLES',
    REMOTE_WRITE_DEFAULTS.maxSamples,
    warnings,
  );
  const maxQueuedSamples = parsePositiveInt(
    env,
    'OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES',
    REMOTE_WRITE_DEFAULTS.maxQueuedSamples,
    warnings,
    maxSamples,
  );
  const maxQueuedBytes = parsePositiveInt(
    env,
    'OBSERVED_REMOTE_WRITE_QUEUE_BYTES',
    REMOTE_WRITE_DEFAULTS.maxQueuedBytes,
    warnings,
    65_536,
    1024 * 1024 * 1024,
  );
  const maxStaleSeries = parsePositiveInt(
    env,
    'OBSERVED_REMOTE_WRITE_STALE_SERIES',
    REMOTE_WRITE_DEFAULTS.maxStaleSeries,
    warnings,
    1,
    1_000_000,
  );
  const timeoutMs = parsePositiveInt(
    env,
    'OBSERVED_REMOTE_WRITE_TIMEOUT_MS',
    REMOTE_WRITE_DEFAULTS.timeoutMs,
    warnings,
    100,
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of parseKeyValues(env, 'OBSERVED_REMOTE_WRITE_HEADERS', warnings)) {
    headers[name.toLowerCase()] = value;
  }
  return {
    options: {
      url,
      sigv4Region,
      maxBytes,
      maxSamples,
      maxQueuedSamples,
      maxQueuedBytes,
      maxStaleSeries,
      timeoutMs,
      headers,
      translate: translate.options,
    },
    warnings,
  };
}
