/**
 * Metric and label names as the OpenTelemetry "Prometheus and OpenMetrics
 * compatibility" specification builds them: invalid characters become `_`,
 * runs of `_` collapse, the unit (UCUM, as OpenTelemetry writes it) becomes a
 * word suffix, and monotonic sums end in `_total`.
 */

/** UCUM units to the words Prometheus uses as name suffixes. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  // time
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  // information
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  bit: 'bits',
  // SI
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

/** Denominators of rates ("By/s" is bytes_per_second). */
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

const INVALID_METRIC_CHARS = /[^a-zA-Z0-9_:]+/g;
const INVALID_LABEL_CHARS = /[^a-zA-Z0-9_]+/g;
const UNDERSCORE_RUNS = /__+/g;
const VALID_METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const VALID_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** `[a-zA-Z_:][a-zA-Z0-9_:]*`, invalid characters replaced by `_`, runs of `_` collapsed. */
export function sanitizeMetricName(name: string): string {
  if (VALID_METRIC_NAME.test(name) && !name.includes('__')) return name;
  let out = name.replace(INVALID_METRIC_CHARS, '_').replace(UNDERSCORE_RUNS, '_');
  if (out === '') return '_';
  if (out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = `_${out}`;
  return out;
}

const labelNameCache = new Map<string, string>();

/** `[a-zA-Z_][a-zA-Z0-9_]*`, invalid characters replaced by `_`, runs of `_` collapsed. */
export function sanitizeLabelName(name: string): string {
  const cached = labelNameCache.get(name);
  if (cached !== undefined) return cached;
  let out: string;
  if (VALID_LABEL_NAME.test(name) && !name.includes('__')) {
    out = name;
  } else {
    out = name.replace(INVALID_LABEL_CHARS, '_').replace(UNDERSCORE_RUNS, '_');
    if (out === '') out = '_';
    if (out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = `_${out}`;
  }
  if (labelNameCache.size < 10_000) labelNameCache.set(name, out);
  return out;
}

/**
 * The Prometheus unit word for an OpenTelemetry unit: abbreviations become
 * words, `{annotations}` are dropped (a count of things has no unit), `1` is
 * `ratio` (for gauges only, as the OpenTelemetry Collector and Prometheus do,
 * so counts of "1" do not end in `_ratio_total`), and `a/b` is `a_per_b`.
 */
export function unitWord(unit: string | undefined, isGauge: boolean): string {
  if (!unit) return '';
  const stripped = unit.replace(/\{[^}]*\}/g, '').trim();
  if (stripped === '') return '';
  if (stripped === '1') return isGauge ? 'ratio' : '';
  const slash = stripped.indexOf('/');
  if (slash >= 0) {
    const top = stripped.slice(0, slash).trim();
    const bottom = stripped.slice(slash + 1).trim();
    const topWord = top === '' || top === '1' ? '' : (UNIT_WORDS[top] ?? cleanUnit(top));
    const bottomWord = bottom === '' ? '' : (PER_UNIT_WORDS[bottom] ?? UNIT_WORDS[bottom] ?? cleanUnit(bottom));
    if (bottomWord === '') return topWord;
    return topWord === '' ? `per_${bottomWord}` : `${topWord}_per_${bottomWord}`;
  }
  return UNIT_WORDS[stripped] ?? cleanUnit(stripped);
}

function cleanUnit(unit: string): string {
  return unit.replace(INVALID_LABEL_CHARS, '_').replace(UNDERSCORE_RUNS, '_').replace(/^_|_$/g, '');
}

/**
 * The family name: sanitized name, then the unit word unless the name already
 * holds it, then `_total` for counters (moved behind the unit when the
 * instrument's name already ended in it).
 */
export function metricFamilyName(name: string, unit: string | undefined, kind: 'counter' | 'gauge' | 'other'): string {
  let base = sanitizeMetricName(name);
  const isCounter = kind === 'counter';
  if (isCounter && base.endsWith('_total')) base = base.slice(0, -6);
  const word = unitWord(unit, kind === 'gauge');
  if (word !== '' && !`_${base}_`.includes(`_${word}_`)) base = base === '_' ? word : `${base}_${word}`;
  if (isCounter) base = `${base}_total`;
  return base.replace(UNDERSCORE_RUNS, '_');
}
