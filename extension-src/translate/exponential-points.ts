/**
 * Exponential histograms (the specification's "Exponential Histograms"): a
 * native histogram sample when OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS is on,
 * otherwise classic `le` buckets, since many receivers take no native
 * histograms. Delta points become running totals, merged at the coarser
 * scale (accumulate.ts); the bucket arithmetic is in exponential.ts.
 */
import type { ExponentialHistogramDataPoint, Int64 } from '../otlp/types.js';
import { toPromExemplars } from './exemplars.js';
import { type DenseBuckets, type ExponentialPoint, toClassicBuckets, toNativeHistogram } from './exponential.js';
import { writeClassicBuckets } from './histogram-points.js';
import { int64ToNumber, nanosToNumber } from './int64.js';
import { hasNoRecordedValue, type PointContext, type PointWriter } from './point-context.js';
import { EMPTY_NATIVE_HISTOGRAM, type MetricFamily, type PromExemplar, type SeriesSample } from './series.js';
import type { PointLabels } from './series-ids.js';

export const exponentialPoints: PointWriter<ExponentialHistogramDataPoint> = {
  // `__name__` and, in the classic bucket form, `le`.
  extraLabels: 2,
  write(context, family, p, labels, timestampMs, out, delta) {
    const streamKey = `${family.name}\u0002${labels.key}`;
    const stale = hasNoRecordedValue(p);
    let dense = densePoint(p);
    if (stale) {
      if (delta) context.deltas.forget(streamKey);
    } else if (delta) {
      const state = context.deltas.addExponential(streamKey, nanosToNumber(p.timeUnixNano), dense);
      if (!state) {
        context.problems.outOfOrder(family.name);
        return false;
      }
      dense = state;
    }
    if (context.options.nativeHistograms)
      return writeNative(context, family, labels, p, dense, stale, timestampMs, out);
    const buckets = { ...toClassicBuckets(dense), count: dense.count, sum: dense.hasSum ? dense.sum : undefined };
    writeClassicBuckets(context, family, labels, timestampMs, buckets, stale, undefined, out);
    return true;
  },
};

/** One native histogram sample; a staleness marker (an empty histogram) when `stale`. */
function writeNative(
  context: PointContext,
  family: MetricFamily,
  labels: PointLabels,
  p: ExponentialHistogramDataPoint,
  dense: ExponentialPoint,
  stale: boolean,
  timestampMs: number,
  out: SeriesSample[],
): boolean {
  let histogram = EMPTY_NATIVE_HISTOGRAM;
  let exemplars: PromExemplar[] | undefined;
  if (!stale) {
    const native = toNativeHistogram(dense);
    if (!native) {
      context.problems.drop(
        'unsupported_scale',
        family.name,
        `exponential histogram ${family.name} has scale ${dense.scale} (< -4); dropped`,
      );
      return false;
    }
    histogram = native;
    exemplars = toPromExemplars(p.exemplars);
  }
  const id = context.ids.seriesOf(labels, family.name);
  out.push({
    key: id.key,
    labels: id.labels,
    family,
    role: 'value',
    timestampMs,
    value: Number.NaN,
    histogram,
    stale: stale || undefined,
    exemplars,
  });
  return true;
}

function densePoint(p: ExponentialHistogramDataPoint): ExponentialPoint {
  return {
    scale: p.scale ?? 0,
    zeroThreshold: p.zeroThreshold ?? 0,
    zeroCount: int64ToNumber(p.zeroCount),
    count: int64ToNumber(p.count),
    sum: p.sum ?? 0,
    hasSum: p.sum != null,
    positive: denseBuckets(p.positive),
    negative: denseBuckets(p.negative),
  };
}

function denseBuckets(buckets: { offset?: number; bucketCounts?: Int64[] } | null | undefined): DenseBuckets {
  if (!buckets?.bucketCounts || buckets.bucketCounts.length === 0) return { offset: 0, counts: [] };
  return { offset: buckets.offset ?? 0, counts: buckets.bucketCounts.map(int64ToNumber) };
}
