/**
 * Walks OTLP metrics requests: their metrics and data points, counted as the
 * extension's receiver counts items.
 */
import type { ExportMetricsServiceRequest, Int64, Metric } from '../../../../extension-src/otlp/types.js';

/** Data points of a request, of every metric type. */
export function countPoints(request: ExportMetricsServiceRequest): number {
  let n = 0;
  for (const m of metricsIn(request)) n += pointsOf(m).length;
  return n;
}

/** Every metric of a request, in order. */
export function* metricsIn(request: ExportMetricsServiceRequest): Generator<Metric> {
  for (const rm of request.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) yield* sm.metrics ?? [];
  }
}

/** A metric's data points, whatever its type. */
export function pointsOf(m: Metric): { timeUnixNano?: Int64 }[] {
  return (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints ?? [];
}
