/**
 * Translation settings shared by the remote write and Pushgateway exporters,
 * from OBSERVED_PROMETHEUS_* variables. Bad values fall back to the default
 * with a one-line warning naming the variable and what it accepts.
 */
import { compareLabels, type Label, MIN_LABEL_VALUE_LENGTH } from './labels.js';
import { sanitizeLabelName } from './names.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './translator.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Parsed<T> {
  readonly options: T;
  readonly warnings: string[];
}

export function parseBoolean(env: Env, name: string, fallback: boolean, warnings: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  if (raw === 'false' || raw === '0' || raw === 'no') return false;
  warnings.push(`${name}=${env[name]} is not valid; accepted values: true, false (using ${fallback})`);
  return fallback;
}

export function parsePositiveInt(
  env: Env,
  name: string,
  fallback: number,
  warnings: string[],
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    warnings.push(`${name}=${raw} is not valid; accepted values: an integer from ${min} to ${max} (using ${fallback})`);
    return fallback;
  }
  return value;
}

/** `key=value,key2=value2` (values percent-decoded, like OTEL_RESOURCE_ATTRIBUTES). */
export function parseKeyValues(env: Env, name: string, warnings: string[]): [string, string][] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  const out: [string, string][] = [];
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) {
      warnings.push(
        `${name}: "${part.trim()}" is not valid; accepted values: comma-separated name=value pairs (ignored)`,
      );
      continue;
    }
    try {
      out.push([decodeURIComponent(part.slice(0, eq).trim()), decodeURIComponent(part.slice(eq + 1).trim())]);
    } catch {
      warnings.push(
        `${name}: "${part.trim()}" has a bad percent-encoding; accepted values: name=value pairs (ignored)`,
      );
    }
  }
  return out;
}

export function parseTranslateOptions(env: Env): Parsed<TranslateOptions> {
  const warnings: string[] = [];
  const external: Label[] = [];
  for (const [name, value] of parseKeyValues(env, 'OBSERVED_PROMETHEUS_EXTERNAL_LABELS', warnings)) {
    const clean = sanitizeLabelName(name);
    // `__replica__` (HA pairs in Cortex/AMP) keeps its double underscores.
    const labelName = /^__[a-zA-Z0-9_]*__$/.test(name) && name !== '__name__' ? name : clean;
    if (labelName !== name) {
      warnings.push(`OBSERVED_PROMETHEUS_EXTERNAL_LABELS: label name "${name}" is used as "${labelName}"`);
    }
    if (value === '') continue;
    external.push({ name: labelName, value });
  }
  external.sort(compareLabels);
  const promoted = (env.OBSERVED_PROMETHEUS_RESOURCE_LABELS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    options: {
      nativeHistograms: parseBoolean(env, 'OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS', false, warnings),
      externalLabels: external,
      promotedResourceAttributes: promoted,
      scopeLabels: parseBoolean(
        env,
        'OBSERVED_PROMETHEUS_SCOPE_LABELS',
        DEFAULT_TRANSLATE_OPTIONS.scopeLabels,
        warnings,
      ),
      targetInfo: parseBoolean(env, 'OBSERVED_PROMETHEUS_TARGET_INFO', DEFAULT_TRANSLATE_OPTIONS.targetInfo, warnings),
      maxLabelValueBytes: parsePositiveInt(
        env,
        'OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH',
        DEFAULT_TRANSLATE_OPTIONS.maxLabelValueBytes,
        warnings,
        MIN_LABEL_VALUE_LENGTH,
        1024 * 1024,
      ),
      maxLabelsPerSeries: parsePositiveInt(
        env,
        'OBSERVED_PROMETHEUS_MAX_LABELS',
        DEFAULT_TRANSLATE_OPTIONS.maxLabelsPerSeries,
        warnings,
        4,
        10_000,
      ),
    },
    warnings,
  };
}
