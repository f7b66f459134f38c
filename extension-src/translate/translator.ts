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
  Metric,
  NumberDataPoint,
  SummaryDataPoint,
} from '../otlp/types.js';
import { AggregationTemporality, FLAG_NO_RECORDED_VALUE } from '../otlp/types.js';
import { DeltaAccumulator } from './accumulate.js';
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
import { LabelLimits } from './label-limits.js';
import { anyValueToString, formatFloat } from './labels.js';
import { metricFamilyName, unitWord } from './names.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './options.js';
import { type DropReason, TranslationProblems } from './problems.js';
import { resourceLabels, type ScopeContext, scopeContext, targetInfoSample } from './resource-labels.js';
import {
  EMPTY_NATIVE_HISTOGRAM,
  type MetricFamily,
  type MetricType,
  type NativeHistogram,
  type PromExemplar,
  type SeriesSample,
} from './series.js';
import { type PointLabels, SeriesIds } from './series-ids.js';

export { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './options.js';

/** Family names kept; past this the cache starts again. */
const FAMILY_NAME_CACHE_LIMIT = 50_000;

export class PrometheusTranslator {
  readonly options: TranslateOptions;
  private readonly accumulator = new DeltaAccumulator();
  private readonly familyTypes = new Map<string, MetricFamily>();
  private readonly familyNameOf = new Map<string, string>();
  private readonly problems = new TranslationProblems();
  private readonly limits: LabelLimits;
  private readonly ids: SeriesIds;

  constructor(options: Partial<TranslateOptions> = {}) {
    this.options = { ...DEFAULT_TRANSLATE_OPTIONS, ...options };
    this.limits = new LabelLimits(this.options, this.problems);
    this.ids = new SeriesIds(this.options.maxLabelValueBytes, this.limits);
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
      const resource = resourceLabels(rm.resource, this.options.promotedResourceAttributes);
      let latestMs = 0;
      for (const sm of rm.scopeMetrics ?? []) {
        const scope = scopeContext(resource, sm.scope, this.options, this.limits);
        for (const metric of sm.metrics ?? []) {
          const ms = this.translateMetric(metric, scope, out);
          if (ms > latestMs) latestMs = ms;
        }
      }
      if (this.options.targetInfo && latestMs > 0) {
        const info = targetInfoSample(resource, latestMs, this.options, this.limits);
        if (info) out.push(info);
      }
    }
    return out;
  }

  private family(metric: Metric, type: MetricType, kind: 'counter' | 'gauge' | 'other'): MetricFamily | undefined {
    // The same metrics come with every export: their Prometheus names are worked out once.
    const nameKey = `${metric.name}\u0000${metric.unit}\u0000${kind}`;
    let name = this.familyNameOf.get(nameKey);
    if (name === undefined) {
      name = metricFamilyName(metric.name ?? '', metric.unit, kind);
      if (this.familyNameOf.size >= FAMILY_NAME_CACHE_LIMIT) this.familyNameOf.clear();
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
    const point = this.ids.pointLabels(scope, p.attributes);
    if (!this.limits.fits(point.labels, 1, family.name)) return 0;
    const timestampMs = nanosToMillis(p.timeUnixNano);
    const { labels, key } = this.ids.seriesOf(point, family.name);
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
    const point = this.ids.pointLabels(scope, p.attributes);
    if (!this.limits.fits(point.labels, 2, family.name)) return 0;
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
    const names = this.ids.namesOf(family);
    const ids = this.ids.bucketIds(point, names.bucket, upperBounds);
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
      const { labels, key } = this.ids.seriesOf(point, names.sum);
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
    const { labels, key } = this.ids.seriesOf(point, names.count);
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
    const ids = this.ids.pointLabels(scope, p.attributes);
    // Room for `__name__` and, in the classic bucket form, `le`.
    if (!this.limits.fits(ids.labels, 2, family.name)) return 0;
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
      const { labels, key } = this.ids.seriesOf(ids, family.name);
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
    const point = this.ids.pointLabels(scope, p.attributes);
    if (!this.limits.fits(point.labels, 2, family.name)) return 0;
    const timestampMs = nanosToMillis(p.timeUnixNano);
    const stale = ((p.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0;
    const quantiles = [...(p.quantileValues ?? [])].sort((a, b) => (a.quantile ?? 0) - (b.quantile ?? 0));
    for (const q of quantiles) {
      const { labels, key } = this.ids.seriesOf(point, family.name, {
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
    const names = this.ids.namesOf(family);
    const sumId = this.ids.seriesOf(point, names.sum);
    out.push({
      key: sumId.key,
      labels: sumId.labels,
      family,
      role: 'sum',
      timestampMs,
      value: stale ? Number.NaN : (p.sum ?? 0),
      stale: stale || undefined,
    });
    const countId = this.ids.seriesOf(point, names.count);
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
