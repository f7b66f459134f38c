/**
 * Pushgateway settings from the environment:
 *
 * - OBSERVED_PUSHGATEWAY_URL: base URL of the Pushgateway (e.g.
 *   http://pushgateway:9091); unset disables the exporter.
 * - OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN: `true` deletes this environment's
 *   group at SHUTDOWN (keeps the Pushgateway from holding one group per
 *   finished environment forever, at the cost of values a scrape has not yet
 *   seen); default `false`.
 * - OBSERVED_PUSHGATEWAY_TIMEOUT_MS: per HTTP attempt.
 * - OBSERVED_PUSHGATEWAY_HEADERS_SECRET_ARN / _BEARER_TOKEN_SECRET_ARN /
 *   _BASIC_AUTH_SECRET_ARN: credentials from Secrets Manager or SSM (aws/secrets.ts).
 * - OBSERVED_PUSHGATEWAY_MAX_SERIES: series whose current value is kept (and
 *   pushed); beyond it the least recently updated leave their group (counted).
 * plus the OBSERVED_PROMETHEUS_* translation settings, except native
 * histograms, which the text format cannot carry.
 */
import { readSecretSources, type SecretSource } from '../../aws/secrets.js';
import { type ConfigReader, type Env, type Parsed, readFrom } from '../../env/reader.js';
import type { TranslateOptions } from '../../translate/translator.js';
import { readTranslateOptions } from '../translate-settings.js';

export interface PushgatewayOptions {
  readonly url: URL;
  readonly deleteOnShutdown: boolean;
  readonly timeoutMs: number;
  /** Series kept for the pushed groups; the least recently updated go beyond it. */
  readonly maxSeries: number;
  /** Secrets holding headers, a bearer token or basic auth credentials, read at start. */
  readonly secrets?: readonly SecretSource[];
  readonly translate: TranslateOptions;
}

export function parsePushgatewayOptions(env: Env): Parsed<PushgatewayOptions | undefined> {
  return readFrom(env, readPushgatewayOptions);
}

export function readPushgatewayOptions(reader: ConfigReader): PushgatewayOptions | undefined {
  const url = reader.url('OBSERVED_PUSHGATEWAY_URL', 'http://pushgateway:9091', 'Pushgateway export disabled');
  if (!url) return undefined;
  return {
    url,
    deleteOnShutdown: reader.boolean('OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN', false),
    timeoutMs: reader.integer('OBSERVED_PUSHGATEWAY_TIMEOUT_MS', 5_000, 100),
    maxSeries: reader.integer('OBSERVED_PUSHGATEWAY_MAX_SERIES', 20_000, 1, 1_000_000),
    secrets: readSecretSources(reader, 'OBSERVED_PUSHGATEWAY', ['headers', 'bearer-token', 'basic-auth']),
    translate: readTranslateOptions(reader, { nativeHistograms: false }),
  };
}
