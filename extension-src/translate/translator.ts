/**
 * OTLP metrics to Prometheus series, following the OpenTelemetry "Prometheus
 * and OpenMetrics compatibility" specification. The translator walks a
 * request and hands each metric's points to the module of its section:
 *
 * - names and units: names.ts (families and type conflicts: families.ts);
 * - attributes to labels: labels.ts, with the receivers' quotas in
 *   label-limits.ts and each series' cached label set in series-ids.ts;
 * - resource (`job`, `instance`, `target_info`) and scope labels:
 *   resource-labels.ts;
 * - sums and gauges: number-points.ts; histograms: histogram-points.ts;
 *   exponential histograms (native, or classic buckets): exponential-points.ts;
 *   summaries: summary-points.ts; exemplars: exemplars.ts;
 * - delta temporality turned into running totals: accumulate.ts;
 * - a point flagged NoRecordedValue becomes a staleness marker.
 *
 * Where this departs from the specification, on purpose:
 * - `instance` falls back to `faas.instance` when `service.instance.id` is
 *   absent (see resource-labels.ts);
 * - delta non-monotonic sums and delta exponential histograms are
 *   accumulated, not dropped (the whole stream is seen from its start);
 * - no `_created` series (remote write receivers would store them as extra
 *   series; Prometheus 2.x does not use them).
 */

import type { ExportMetricsServiceRequest, Metric } from '../otlp/types.js';
import { AggregationTemporality } from '../otlp/types.js';
import { DeltaAccumulator } from './accumulate.js';
import { exponentialPoints } from './exponential-points.js';
import { MetricFamilies, prometheusType } from './families.js';
import { histogramPoints } from './histogram-points.js';
import { nanosToMillis } from './int64.js';
import { LabelLimits } from './label-limits.js';
import { numberPoints } from './number-points.js';
import { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './options.js';
import type { DataPoint, PointContext, PointWriter } from './point-context.js';
import { type DropReason, TranslationProblems } from './problems.js';
import { resourceLabels, type ScopeContext, scopeContext, targetInfoSample } from './resource-labels.js';
import type { MetricFamily, SeriesSample } from './series.js';
import { SeriesIds } from './series-ids.js';
import { summaryPoints } from './summary-points.js';

export { DEFAULT_TRANSLATE_OPTIONS, type TranslateOptions } from './options.js';

export class PrometheusTranslator {
  readonly options: TranslateOptions;
  private readonly problems = new TranslationProblems();
  private readonly families = new MetricFamilies(this.problems);
  private readonly context: PointContext;

  constructor(options: Partial<TranslateOptions> = {}) {
    this.options = { ...DEFAULT_TRANSLATE_OPTIONS, ...options };
    const limits = new LabelLimits(this.options, this.problems);
    this.context = {
      options: this.options,
      ids: new SeriesIds(this.options.maxLabelValueBytes, limits),
      limits,
      problems: this.problems,
      deltas: new DeltaAccumulator(),
    };
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
    return this.context.deltas.size;
  }

  /** Appends the samples of one request to `out` and returns it. Never throws on odd input; drops and counts. */
  translate(request: ExportMetricsServiceRequest, out: SeriesSample[] = []): SeriesSample[] {
    for (const rm of request.resourceMetrics ?? []) {
      const resource = resourceLabels(rm.resource, this.options.promotedResourceAttributes);
      let latestMs = 0;
      for (const sm of rm.scopeMetrics ?? []) {
        const scope = scopeContext(resource, sm.scope, this.options, this.context.limits);
        for (const metric of sm.metrics ?? []) {
          const ms = this.translateMetric(metric, scope, out);
          if (ms > latestMs) latestMs = ms;
        }
      }
      // target_info takes the time of the resource's latest point; a resource without points has none.
      if (this.options.targetInfo && latestMs > 0) {
        const info = targetInfoSample(resource, latestMs, this.options, this.context.limits);
        if (info) out.push(info);
      }
    }
    return out;
  }

  /** Returns the latest sample time written (ms), 0 if none. */
  private translateMetric(metric: Metric, scope: ScopeContext, out: SeriesSample[]): number {
    if (metric.gauge) {
      const type = prometheusType(metric) === 'unknown' ? 'unknown' : 'gauge';
      const family = this.families.of(metric, type, 'gauge');
      return this.writePoints(family, metric.gauge.dataPoints, numberPoints, scope, out, false);
    }
    if (metric.sum) {
      const kind = metric.sum.isMonotonic === true ? 'counter' : 'gauge';
      const family = this.families.of(metric, kind, kind);
      const delta = metric.sum.aggregationTemporality === AggregationTemporality.DELTA;
      return this.writePoints(family, metric.sum.dataPoints, numberPoints, scope, out, delta);
    }
    if (metric.histogram) {
      const family = this.families.of(metric, 'histogram', 'other');
      const delta = metric.histogram.aggregationTemporality === AggregationTemporality.DELTA;
      return this.writePoints(family, metric.histogram.dataPoints, histogramPoints, scope, out, delta);
    }
    if (metric.exponentialHistogram) {
      const family = this.families.of(metric, 'histogram', 'other');
      const delta = metric.exponentialHistogram.aggregationTemporality === AggregationTemporality.DELTA;
      return this.writePoints(family, metric.exponentialHistogram.dataPoints, exponentialPoints, scope, out, delta);
    }
    if (metric.summary) {
      const family = this.families.of(metric, 'summary', 'other');
      return this.writePoints(family, metric.summary.dataPoints, summaryPoints, scope, out, false);
    }
    this.problems.drop(
      'unsupported_type',
      metric.name ?? '',
      `metric ${metric.name} has no data of a known type; dropped`,
    );
    return 0;
  }

  /**
   * Each point's labels, label count and time, then the point through its
   * writer; returns the latest sample time written (ms), 0 if none or no family.
   */
  private writePoints<P extends DataPoint>(
    family: MetricFamily | undefined,
    points: P[] | undefined,
    writer: PointWriter<P>,
    scope: ScopeContext,
    out: SeriesSample[],
    delta: boolean,
  ): number {
    if (!family || !points) return 0;
    const { ids, limits } = this.context;
    let latest = 0;
    for (const p of points) {
      const labels = ids.pointLabels(scope, p.attributes);
      if (!limits.fits(labels.labels, writer.extraLabels, family.name)) continue;
      const timestampMs = nanosToMillis(p.timeUnixNano);
      if (writer.write(this.context, family, p, labels, timestampMs, out, delta) && timestampMs > latest) {
        latest = timestampMs;
      }
    }
    return latest;
  }
}
