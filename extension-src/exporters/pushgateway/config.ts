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
 * - OBSERVED_PUSHGATEWAY_MAX_SERIES: series whose current value is kept (and
 *   pushed); beyond it the least recently updated leave their group (counted).
 * plus the OBSERVED_PROMETHEUS_* translation settings, except native
 * histograms, which the text format cannot carry.
 */
import {
  type Env,
  type Parsed,
  parseBoolean,
  parsePositiveInt,
  parseTranslateOptions,
} from '../../translate/config.js';
import type { TranslateOptions } from '../../translate/translator.js';

export interface PushgatewayOptions {
  readonly url: URL;
  readonly deleteOnShutdown: boolean;
  readonly timeoutMs: number;
  /** Series kept for the pushed groups; the least recently updated go beyond it. */
  readonly maxSeries: number;
  readonly translate: TranslateOptions;
}

export function parsePushgatewayOptions(env: Env): Parsed<PushgatewayOptions | undefined> {
  const warnings: string[] = [];
  const raw = env.OBSERVED_PUSHGATEWAY_URL?.trim();
  if (!raw) return { options: undefined, warnings };
  let url: URL;
  try {
    url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    warnings.push(
      `OBSERVED_PUSHGATEWAY_URL=${raw} is not valid; accepted values: an http(s) base URL such as http://pushgateway:9091 (Pushgateway export disabled)`,
    );
    return { options: undefined, warnings };
  }
  const translate = parseTranslateOptions(env);
  warnings.push(...translate.warnings.filter((w) => !w.startsWith('OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS')));
  return {
    options: {
      url,
      deleteOnShutdown: parseBoolean(env, 'OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN', false, warnings),
      timeoutMs: parsePositiveInt(env, 'OBSERVED_PUSHGATEWAY_TIMEOUT_MS', 5_000, warnings, 100),
      maxSeries: parsePositiveInt(env, 'OBSERVED_PUSHGATEWAY_MAX_SERIES', 20_000, warnings, 1, 1_000_000),
      translate: { ...translate.options, nativeHistograms: false },
    },
    warnings,
  };
}
