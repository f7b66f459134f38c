/**
 * OTLP metrics to Prometheus series, following the OpenTelemetry "Prometheus
 * and OpenMetrics compatibility" specification:
 *
 * - monotonic sums are counters named `..._total`; non-monotonic sums and
 *   gauges are gauges;
 * - explicit-bucket histograms are `_bucket{le}` (cumulative, ending in
 *   `+Inf`), `_sum` and `_count`; summaries are `{quantile}`, `_sum`, `_count`;
 * - exponential histograms are native histograms, or classic buckets when the
 *   target has no native histograms;
 * - delta temporality is turned into running totals (see accumulate.ts);
 * - the resource becomes `job` (`service.namespace/service.name`), `instance`
 *   and a `target_info` series holding the other resource attributes;
 * - scope name and version become `otel_scope_name` / `otel_scope_version`;
 * - exemplars carry `trace_id` and `span_id`;
 * - a point flagged NoRecordedValue becomes a staleness marker.
 *
 * Where this departs from the specification, on purpose:
 * - `instance` falls back to `faas.instance` (Lambda's log stream name, unique
 *   per execution environment) when `service.instance.id` is absent, because
 *   an empty instance would merge the series of concurrent environments;
 * - delta non-monotonic sums and delta exponential histograms are
 *   accumulated, not dropped (the whole stream is seen from its start);
 * - no `_created` series (remote write receivers would store them as extra
 *   series; Prometheus 2.x does not use them).
 */

import type {
  ExponentialHistogramDataPoint,
  ExportMetricsServiceRequest,
  HistogramDataPoint,
  KeyValue,
  Metric,
  NumberDataPoint,
  Resource,
  SummaryDataPoint,
} from '../otlp/types.js';
import { AggregationTemporality, FLAG_NO_RECORDED_VALUE } from '../otlp/types.js';
import { DeltaAccumulator } from './accumulate.js';
import { sameBounds } from './bounds.js';
import { bucketExemplars, toPromExemplars } from './exemplars.js';
import {
  type DenseBuckets,
  downscale,
  lowerBound,
  MAX_NATIVE_SCHEMA,
  MIN_NATIVE_SCHEMA,
  toSpans,
  upperBound,
} from './exponential.js';
import { int64ToNumber, nanosToMillis, nanosToNumber } from './int64.js';
import {
  anyValueToString,
  attributesToLabels,
  formatFloat,
  type Label,
  labelsKey,
  limitLabelValue,
  sortedLabels,
  withLabel,
} from './labels.js';
import { metricFamilyName, sanitizeLabelName, unitWord } from './names.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './options.js';
import { type DropReason, TranslationProblems } from './problems.js';
import {
  EMPTY_NATIVE_HISTOGRAM,
  type MetricFamily,
  type MetricType,
  type NativeHistogram,
  type PromExemplar,
  type SeriesSample,
} from './series.js';

export { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './options.js';

/** Resource attributes that become `job` and `instance` rather than `target_info` labels. */
const IDENTIFYING_ATTRIBUTES = new Set(['service.name', 'service.namespace', 'service.instance.id']);

const TARGET_INFO: MetricFamily = { name: 'target_info', type: 'gauge', help: 'Target metadata', unit: '' };

interface SeriesId {
  readonly labels: Label[];
  readonly key: string;
}

interface PointLabels {
  readonly labels: Label[];
  readonly key: string;
  readonly series: Map<string, SeriesId>;
  /** Bucket series by histogram name, valid while the bucket bounds stay the same. */
  readonly buckets: Map<string, { bounds: number[]; ids: SeriesId[] }>;
}

interface FamilyNames {
  readonly bucket: string;
  readonly sum: string;
  readonly count: string;
}

const POINT_CACHE_LIMIT = 50_000;

interface ScopeContext {
  /** Sorted labels every point of this scope starts from (external, promoted, scope, job, instance). */
  readonly base: Label[];
  readonly baseMap: Map<string, string>;
  /** job and instance, which point attributes may not replace. */
  readonly identity: readonly Label[];
  readonly keyPrefix: string;
}

export class PrometheusTranslator {
  readonly options: TranslateOptions;
  private readonly accumulator = new DeltaAccumulator();
  private readonly familyTypes = new Map<string, MetricFamily>();
  private readonly pointCache = new Map<string, PointLabels>();
  private readonly familyNames = new Map<string, FamilyNames>();
  private readonly familyNameOf = new Map<string, string>();
  private readonly problems = new TranslationProblems();

  constructor(options: Partial<TranslateOptions> = {}) {
    this.options = { ...DEFAULT_TRANSLATE_OPTIONS, ...options };
  }

  /** Points dropped, by reason. */
  get dropped(): ReadonlyMap<DropReason, number> {
    return this.problems.dropped;
  }

  /** Label values shortened to OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH, counted once per label set built. */
  get labelValuesShortened(): number {
    return this.problems.labelValuesShortened;
  }

  /** Called once per distinct problem (metric name and reason), for a log line. */
  get onWarning(): (message: string) => void {
    return this.problems.onWarning;
  }

  set onWarning(log: (message: string) => void) {
    this.problems.onWarning = log;
  }

  /** Number of delta streams whose running totals are kept. */
  get deltaStreams(): number {
    return this.accumulator.size;
  }

  /** Appends the samples of one request to `out` and returns it. Never throws on odd input; drops and counts. */
  translate(request: ExportMetricsServiceRequest, out: SeriesSample[] = []): SeriesSample[] {
    for (const rm of request.resourceMetrics ?? []) {
      const resource = this.resourceIdentity(rm.resource);
      let latestMs = 0;
      for (const sm of rm.scopeMetrics ?? []) {
        const scope = this.scopeContext(resource, sm.scope?.name ?? '', sm.scope?.version ?? '');
        for (const metric of sm.metrics ?? []) {
          const ms = this.translateMetric(metric, scope, out);
          if (ms > latestMs) latestMs = ms;
        }
      }
      if (this.options.targetInfo && latestMs > 0 && resource.infoLabels.size > 0) {
        const map = new Map([...resource.infoLabels, ...resource.identity]);
        for (const l of this.options.externalLabels) if (!map.has(l.name)) map.set(l.name, l.value);
        map.set('__name__', TARGET_INFO.name);
        const labels = this.limitValues(sortedLabels(map));
        if (labels.length > this.options.maxLabelsPerSeries) {
          this.tooManyLabels(TARGET_INFO.name, labels.length);
          continue;
        }
        out.push({
          key: `target_info\u0002${labelsKey(labels)}`,
          labels,
          family: TARGET_INFO,
          role: 'value',
          timestampMs: latestMs,
          value: 1,
        });
      }
    }
    return out;
  }

  private resourceIdentity(resource: Resource | null | undefined): {
    identity: Map<string, string>;
    infoLabels: Map<string, string>;
    promoted: Map<string, string>;
  } {
    const attrs = new Map<string, string>();
    for (const kv of resource?.attributes ?? []) attrs.set(kv.key, anyValueToString(kv.value));
    const name = attrs.get('service.name') ?? '';
    const namespace = attrs.get('service.namespace') ?? '';
    const job = namespace !== '' && name !== '' ? `${namespace}/${name}` : name || namespace;
    const instance = attrs.get('service.instance.id') || attrs.get('faas.instance') || '';
    const identity = new Map<string, string>();
    if (job !== '') identity.set('job', job);
    if (instance !== '') identity.set('instance', instance);
    const infoAttributes: KeyValue[] = (resource?.attributes ?? []).filter((kv) => !IDENTIFYING_ATTRIBUTES.has(kv.key));
    const infoLabels = new Map<string, string>();
    attributesToLabels(infoAttributes, infoLabels);
    infoLabels.delete('job');
    infoLabels.delete('instance');
    const promoted = new Map<string, string>();
    for (const key of this.options.promotedResourceAttributes) {
      const value = attrs.get(key);
      if (value) promoted.set(sanitizeLabelName(key), value);
    }
    return { identity, infoLabels, promoted };
  }

  private scopeContext(
    resource: { identity: Map<string, string>; promoted: Map<string, string> },
    scopeName: string,
    scopeVersion: string,
  ): ScopeContext {
    const map = new Map<string, string>();
    for (const l of this.options.externalLabels) map.set(l.name, l.value);
    for (const [k, v] of resource.promoted) map.set(k, v);
    if (this.options.scopeLabels) {
      if (scopeName) map.set('otel_scope_name', scopeName);
      if (scopeVersion) map.set('otel_scope_version', scopeVersion);
    }
    for (const [k, v] of resource.identity) map.set(k, v);
    const base = this.limitValues(sortedLabels(map));
    const identity = this.limitValues(sortedLabels(resource.identity));
    for (const l of base) map.set(l.name, l.value);
    return { base, baseMap: map, identity, keyPrefix: labelsKey(base) };
  }

  /**
   * Point labels: scope base, then the point's attributes, with job/instance
   * kept. Cached by content, since the same series come back with every
   * export; the cache also holds each series' full label set.
   */
  private pointLabels(scope: ScopeContext, attributes: KeyValue[] | undefined): PointLabels {
    const maxBytes = this.options.maxLabelValueBytes;
    let signature = scope.keyPrefix;
    if (attributes) {
      // Shortened values in the cache key too, so megabyte attributes are not kept as keys.
      for (const kv of attributes)
        signature += `\u0005${kv.key}\u0000${limitLabelValue(anyValueToString(kv.value), maxBytes)}`;
    }
    const cached = this.pointCache.get(signature);
    if (cached) return cached;
    let labels: Label[];
    let key: string;
    if (!attributes || attributes.length === 0) {
      labels = scope.base;
      key = scope.keyPrefix;
    } else {
      const map = new Map(scope.baseMap);
      attributesToLabels(attributes, map);
      for (const l of scope.identity) map.set(l.name, l.value);
      labels = this.limitValues(sortedLabels(map));
      key = labelsKey(labels);
    }
    const point: PointLabels = { labels, key, series: new Map(), buckets: new Map() };
    if (this.pointCache.size >= POINT_CACHE_LIMIT) this.pointCache.clear();
    this.pointCache.set(signature, point);
    return point;
  }

  /** Label values within OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH (a copy only when one is shortened). */
  private limitValues(labels: Label[]): Label[] {
    const maxBytes = this.options.maxLabelValueBytes;
    let out: Label[] | undefined;
    for (let i = 0; i < labels.length; i++) {
      const value = limitLabelValue(labels[i].value, maxBytes);
      if (value === labels[i].value) continue;
      out ??= labels.slice();
      out[i] = { name: labels[i].name, value };
      this.problems.labelValuesShortened++;
      this.problems.warnOnce(
        `shortened\u0000${labels[i].name}`,
        `label ${labels[i].name} has a value longer than ${maxBytes} bytes; it is sent as its prefix and a hash (OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH)`,
      );
    }
    return out ?? labels;
  }

  /**
   * Whether a point's series stay within OBSERVED_PROMETHEUS_MAX_LABELS with
   * `extra` more labels (`__name__`, and `le` or `quantile`); if not, the point
   * is dropped and counted: a backend refuses the whole request it is in.
   */
  private fits(point: PointLabels, family: MetricFamily, extra: number): boolean {
    const count = point.labels.length + extra;
    if (count <= this.options.maxLabelsPerSeries) return true;
    this.tooManyLabels(family.name, count);
    return false;
  }

  private tooManyLabels(name: string, count: number): void {
    this.problems.drop(
      'too_many_labels',
      name,
      `a series of ${name} has ${count} labels, more than ${this.options.maxLabelsPerSeries} (OBSERVED_PROMETHEUS_MAX_LABELS); dropped`,
    );
  }

  private namesOf(family: MetricFamily): FamilyNames {
    let names = this.familyNames.get(family.name);
    if (!names) {
      names = { bucket: `${family.name}_bucket`, sum: `${family.name}_sum`, count: `${family.name}_count` };
      this.familyNames.set(family.name, names);
    }
    return names;
  }

  /** Bucket series of a histogram point, one per upper bound (the last is +Inf). */
  private bucketIds(point: PointLabels, bucketName: string, bounds: number[]): SeriesId[] {
    const cached = point.buckets.get(bucketName);
    if (cached && sameBounds(cached.bounds, bounds)) return cached.ids;
    const ids = bounds.map((b) => this.seriesOf(point, bucketName, { name: 'le', value: formatFloat(b) }));
    point.buckets.set(bucketName, { bounds, ids });
    return ids;
  }

  /** The full label set and key of one series of a point: `__name__` and perhaps `le` or `quantile`. */
  private seriesOf(point: PointLabels, name: string, extra?: Label): SeriesId {
    const cacheKey = extra ? `${name}\u0003${extra.name}\u0003${extra.value}` : name;
    let id = point.series.get(cacheKey);
    if (!id) {
      let labels = withLabel(point.labels, { name: '__name__', value: name });
      if (extra) labels = withLabel(labels, extra);
      id = { labels, key: extra ? `${name}\u0002${point.key}\u0003${extra.value}` : `${name}\u0002${point.key}` };
      point.series.set(cacheKey, id);
    }
    return id;
  }

  private family(metric: Metric, type: MetricType, kind: 'counter' | 'gauge' | 'other'): MetricFamily | undefined {
    // The same metrics come with every export: their Prometheus names are worked out once.
    const nameKey = `${metric.name}\u0000${metric.unit}\u0000${kind}`;
    let name = this.familyNameOf.get(nameKey);
    if (name === undefined) {
      name = metricFamilyName(metric.name ?? '', metric.unit, kind);
      if (this.familyNameOf.size >= POINT_CACHE_LIMIT) this.familyNameOf.clear();
      this.familyNameOf.set(nameKey, name);
    }
    const known = this.familyTypes.get(name);
    if (known !== undefined) {
      if (known.type === type) return known;
      this.problems.drop(
        'type_conflict',
        name,
        `metric ${name} arrived as ${type} but was first seen as ${known.type}; dropped`,
      );
      return undefined;
    }
    const family: MetricFamily = {
      name,
      type,
      help: metric.description ?? '',
      unit: unitWord(metric.unit, kind === 'gauge'),
    };
    this.familyTypes.set(name, family);
    return family;
  }

  /** Returns the latest sample time written (ms), 0 if none. */
  private translateMetric(metric: Metric, scope: ScopeContext, out: SeriesSample[]): number {
    let latest = 0;
    if (metric.gauge) {
      const unknown = metadataType(metric) === 'unknown';
      const family = this.family(metric, unknown ? 'unknown' : 'gauge', 'gauge');
      if (!family) return 0;
      for (const p of metric.gauge.dataPoints ?? []) latest = Math.max(latest, this.numberPoint(family, p, scope, out));
    } else if (metric.sum) {
      const monotonic = metric.sum.isMonotonic === true;
      const delta = metric.sum.aggregationTemporality === AggregationTemporality.DELTA;
      const family = this.family(metric, monotonic ? 'counter' : 'gauge', monotonic ? 'counter' : 'gauge');
      if (!family) return 0;
      for (const p of metric.sum.dataPoints ?? []) {
        latest = Math.max(latest, this.numberPoint(family, p, scope, out, delta));
      }
    } else if (metric.histogram) {
      const family = this.family(metric, 'histogram', 'other');
      if (!family) return 0;
      const delta = metric.histogram.aggregationTemporality === AggregationTemporality.DELTA;
      for (const p of metric.histogram.dataPoints ?? []) {
        latest = Math.max(latest, this.histogramPoint(family, p, scope, out, delta));
      }
    } else if (metric.exponentialHistogram) {
      const family = this.family(metric, 'histogram', 'other');
      if (!family) return 0;
      const delta = metric.exponentialHistogram.aggregationTemporality === AggregationTemporality.DELTA;
      for (const p of metric.exponentialHistogram.dataPoints ?? []) {
        latest = Math.max(latest, this.exponentialPoint(family, p, scope, out, delta));
      }
    } else if (metric.summary) {
      const family = this.family(metric, 'summary', 'other');
      if (!family) return 0;
      for (const p of metric.summary.dataPoints ?? [])
        latest = Math.max(latest, this.summaryPoint(family, p, scope, out));
    } else {
      this.problems.drop(
        'unsupported_type',
        metric.name ?? '',
        `metric ${metric.name} has no data of a known type; dropped`,
      );
    }
    return latest;
  }

  private numberPoint(
    family: MetricFamily,
    p: NumberDataPoint,
    scope: ScopeContext,
    out: SeriesSample[],
    delta = false,
  ): number {
    const point = this.pointLabels(scope, p.attributes);
    if (!this.fits(point, family, 1)) return 0;
    const timestampMs = nanosToMillis(p.timeUnixNano);
    const { labels, key } = this.seriesOf(point, family.name);
    const stale = ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0;
    if (stale) {
      if (delta) this.accumulator.forget(key);
      out.push({ key, labels, family, role: 'value', timestampMs, value: Number.NaN, stale: true });
      return timestampMs;
    }
    let value = p.asDouble != null ? p.asDouble : int64ToNumber(p.asInt);
    if (delta) {
      const total = this.accumulator.addSum(key, nanosToNumber(p.timeUnixNano), value);
      if (total === undefined) {
        this.problems.outOfOrder(family.name);
        return 0;
      }
      value = total;
    }
    const exemplars = family.type === 'counter' ? toPromExemplars(p.exemplars) : undefined;
    out.push({ key, labels, family, role: 'value', timestampMs, value, exemplars });
    return timestampMs;
  }

  private histogramPoint(
    family: MetricFamily,
    p: HistogramDataPoint,
    scope: ScopeContext,
    out: SeriesSample[],
    delta: boolean,
  ): number {
    const point = this.pointLabels(scope, p.attributes);
    if (!this.fits(point, family, 2)) return 0;
    const timestampMs = nanosToMillis(p.timeUnixNano);
    const streamKey = `${family.name}\u0002${point.key}`;
    const bounds = p.explicitBounds ?? [];
    const rawCounts = p.bucketCounts ?? [];
    const stale = ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0;
    if (!stale && rawCounts.length !== 0 && rawCounts.length !== bounds.length + 1) {
      this.problems.drop(
        'invalid_point',
        family.name,
        `histogram ${family.name} has ${rawCounts.length} buckets for ${bounds.length} bounds; dropped`,
      );
      return 0;
    }
    let counts = rawCounts.length === 0 ? new Array<number>(bounds.length + 1).fill(0) : rawCounts.map(int64ToNumber);
    let count = int64ToNumber(p.count);
    let sum: number | undefined = p.sum ?? undefined;
    if (stale) {
      if (delta) this.accumulator.forget(streamKey);
    } else if (delta) {
      const state = this.accumulator.addHistogram(streamKey, nanosToNumber(p.timeUnixNano), bounds, counts, count, sum);
      if (!state) {
        this.problems.outOfOrder(family.name);
        return 0;
      }
      counts = state.counts;
      count = state.count;
      sum = state.hasSum ? state.sum : undefined;
    }
    const upper = bounds.concat(Number.POSITIVE_INFINITY);
    const cumulative: number[] = new Array(counts.length);
    let running = 0;
    for (let i = 0; i < counts.length; i++) {
      running += counts[i];
      cumulative[i] = running;
    }
    const exemplars = stale ? undefined : bucketExemplars(p.exemplars, bounds);
    this.classicHistogram(family, point, timestampMs, upper, cumulative, count, sum, stale, exemplars, out);
    return timestampMs;
  }

  private classicHistogram(
    family: MetricFamily,
    point: PointLabels,
    timestampMs: number,
    upperBounds: number[],
    cumulative: number[],
    count: number,
    sum: number | undefined,
    stale: boolean,
    bucketExemplars: (PromExemplar[] | undefined)[] | undefined,
    out: SeriesSample[],
  ): void {
    const names = this.namesOf(family);
    const ids = this.bucketIds(point, names.bucket, upperBounds);
    for (let i = 0; i < ids.length; i++) {
      out.push({
        key: ids[i].key,
        labels: ids[i].labels,
        family,
        role: 'bucket',
        timestampMs,
        value: stale ? Number.NaN : cumulative[i],
        stale: stale || undefined,
        exemplars: bucketExemplars?.[i],
      });
    }
    if (sum !== undefined || stale) {
      const { labels, key } = this.seriesOf(point, names.sum);
      out.push({
        key,
        labels,
        family,
        role: 'sum',
        timestampMs,
        value: stale ? Number.NaN : (sum as number),
        stale: stale || undefined,
      });
    }
    const { labels, key } = this.seriesOf(point, names.count);
    out.push({
      key,
      labels,
      family,
      role: 'count',
      timestampMs,
      value: stale ? Number.NaN : count,
      stale: stale || undefined,
    });
  }

  private exponentialPoint(
    family: MetricFamily,
    p: ExponentialHistogramDataPoint,
    scope: ScopeContext,
    out: SeriesSample[],
    delta: boolean,
  ): number {
    const ids = this.pointLabels(scope, p.attributes);
    // Room for `__name__` and, in the classic bucket form, `le`.
    if (!this.fits(ids, family, 2)) return 0;
    const timestampMs = nanosToMillis(p.timeUnixNano);
    const streamKey = `${family.name}\u0002${ids.key}`;
    const stale = ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0;
    let point = {
      scale: p.scale ?? 0,
      zeroThreshold: p.zeroThreshold ?? 0,
      zeroCount: int64ToNumber(p.zeroCount),
      count: int64ToNumber(p.count),
      sum: p.sum ?? 0,
      hasSum: p.sum != null,
      positive: dense(p.positive),
      negative: dense(p.negative),
    };
    if (stale) {
      if (delta) this.accumulator.forget(streamKey);
    } else if (delta) {
      const state = this.accumulator.addExponential(streamKey, nanosToNumber(p.timeUnixNano), point);
      if (!state) {
        this.problems.outOfOrder(family.name);
        return 0;
      }
      point = state;
    }
    if (this.options.nativeHistograms) {
      const { labels, key } = this.seriesOf(ids, family.name);
      if (stale) {
        out.push({
          key,
          labels,
          family,
          role: 'value',
          timestampMs,
          value: Number.NaN,
          histogram: EMPTY_NATIVE_HISTOGRAM,
          stale,
        });
        return timestampMs;
      }
      let { scale, positive, negative } = point;
      if (scale > MAX_NATIVE_SCHEMA) {
        positive = downscale(positive, scale - MAX_NATIVE_SCHEMA);
        negative = downscale(negative, scale - MAX_NATIVE_SCHEMA);
        scale = MAX_NATIVE_SCHEMA;
      }
      if (scale < MIN_NATIVE_SCHEMA) {
        this.problems.drop(
          'unsupported_scale',
          family.name,
          `exponential histogram ${family.name} has scale ${scale} (< -4); dropped`,
        );
        return 0;
      }
      const pos = toSpans(positive);
      const neg = toSpans(negative);
      const histogram: NativeHistogram = {
        count: point.count,
        sum: point.hasSum ? point.sum : 0,
        schema: scale,
        zeroThreshold: point.zeroThreshold > 0 ? point.zeroThreshold : 1e-128,
        zeroCount: point.zeroCount,
        positiveSpans: pos.spans,
        positiveDeltas: pos.deltas,
        negativeSpans: neg.spans,
        negativeDeltas: neg.deltas,
      };
      const exemplars = toPromExemplars(p.exemplars);
      out.push({ key, labels, family, role: 'value', timestampMs, value: Number.NaN, histogram, exemplars });
      return timestampMs;
    }
    // Classic buckets: negative buckets (most negative first), the zero bucket, positive buckets, +Inf.
    const upper: number[] = [];
    const cumulative: number[] = [];
    let running = 0;
    const { scale, negative, positive } = point;
    for (let i = negative.counts.length - 1; i >= 0; i--) {
      running += negative.counts[i];
      upper.push(-lowerBound(negative.offset + i, scale));
      cumulative.push(running);
    }
    running += point.zeroCount;
    upper.push(point.zeroThreshold);
    cumulative.push(running);
    for (let i = 0; i < positive.counts.length; i++) {
      running += positive.counts[i];
      upper.push(upperBound(positive.offset + i, scale));
      cumulative.push(running);
    }
    upper.push(Number.POSITIVE_INFINITY);
    cumulative.push(point.count);
    this.classicHistogram(
      family,
      ids,
      timestampMs,
      upper,
      cumulative,
      point.count,
      point.hasSum ? point.sum : undefined,
      stale,
      undefined,
      out,
    );
    return timestampMs;
  }

  private summaryPoint(family: MetricFamily, p: SummaryDataPoint, scope: ScopeContext, out: SeriesSample[]): number {
    const point = this.pointLabels(scope, p.attributes);
    if (!this.fits(point, family, 2)) return 0;
    const timestampMs = nanosToMillis(p.timeUnixNano);
    const stale = ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0;
    const quantiles = [...(p.quantileValues ?? [])].sort((a, b) => (a.quantile ?? 0) - (b.quantile ?? 0));
    for (const q of quantiles) {
      const { labels, key } = this.seriesOf(point, family.name, {
        name: 'quantile',
        value: formatFloat(q.quantile ?? 0),
      });
      out.push({
        key,
        labels,
        family,
        role: 'quantile',
        timestampMs,
        value: stale ? Number.NaN : (q.value ?? 0),
        stale: stale || undefined,
      });
    }
    const names = this.namesOf(family);
    const sumId = this.seriesOf(point, names.sum);
    out.push({
      key: sumId.key,
      labels: sumId.labels,
      family,
      role: 'sum',
      timestampMs,
      value: stale ? Number.NaN : (p.sum ?? 0),
      stale: stale || undefined,
    });
    const countId = this.seriesOf(point, names.count);
    out.push({
      key: countId.key,
      labels: countId.labels,
      family,
      role: 'count',
      timestampMs,
      value: stale ? Number.NaN : int64ToNumber(p.count),
      stale: stale || undefined,
    });
    return timestampMs;
  }
}

function metadataType(metric: Metric): string | undefined {
  for (const kv of metric.metadata ?? []) if (kv.key === 'prometheus.type') return anyValueToString(kv.value);
  return undefined;
}

function dense(
  buckets: { offset?: number; bucketCounts?: import('../otlp/types.js').Int64[] } | null | undefined,
): DenseBuckets {
  if (!buckets?.bucketCounts || buckets.bucketCounts.length === 0) return { offset: 0, counts: [] };
  return { offset: buckets.offset ?? 0, counts: buckets.bucketCounts.map(int64ToNumber) };
}
