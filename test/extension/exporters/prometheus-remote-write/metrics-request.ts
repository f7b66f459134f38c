/**
 * Hand-made OTLP metrics requests, for what the SDK does not record on its own
 * (summaries, staleness flags, exemplars with chosen ids), and walks over
 * requests: their metrics and data points, counted as the extension's receiver
 * counts items.
 */
import type { OtlpPayload } from '../../../../extension-src/contracts/payload.js';
import { encodeRequest } from '../../../../extension-src/otlp/proto.js';
import type {
  ExportMetricsServiceRequest,
  InstrumentationScope,
  Int64,
  Metric,
  Resource,
} from '../../../../extension-src/otlp/types.js';

/** An OTLP timestamp (nanoseconds since the epoch, as a decimal string protobufjs accepts) from milliseconds. */
export const nanos = (ms: number): Int64 => (BigInt(ms) * 1_000_000n).toString() as unknown as Int64;

/** The payload of one request holding the metrics of one scope of one resource. */
export function metricsPayload(
  resource: Resource | undefined,
  metrics: Metric[],
  scope?: InstrumentationScope,
): OtlpPayload {
  const request: ExportMetricsServiceRequest = { resourceMetrics: [{ resource, scopeMetrics: [{ scope, metrics }] }] };
  return { signal: 'metrics', bytes: encodeRequest('metrics', request), items: countPoints(request) };
}

/** A resource of string attributes. */
export function stringResource(attributes: Record<string, string>): Resource {
  return { attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: { stringValue: value } })) };
}

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
