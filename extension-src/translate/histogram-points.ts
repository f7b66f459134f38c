/**
 * Explicit-bucket histograms (the specification's "Histograms"): cumulative
 * `_bucket{le}` series ending in `le="+Inf"`, `_sum` (when the point has one)
 * and `_count`, each exemplar on the bucket that holds its value. Delta
 * histograms become running totals. writeClassicBuckets also serves
 * exponential histograms sent as classic buckets.
 */
import type { HistogramDataPoint } from '../otlp/types.js';
import { bucketExemplars } from './exemplars.js';
import { int64ToNumber, nanosToNumber } from './int64.js';
import { hasNoRecordedValue, type PointContext, type PointWriter, pushSample } from './point-context.js';
import type { MetricFamily, PromExemplar, SeriesSample } from './series.js';
import type { PointLabels } from './series-ids.js';

export const histogramPoints: PointWriter<HistogramDataPoint> = {
  // `__name__` and `le`.
  extraLabels: 2,
  write(context, family, p, labels, timestampMs, out, delta) {
    const streamKey = `${family.name}\u0002${labels.key}`;
    const bounds = p.explicitBounds ?? [];
    const rawCounts = p.bucketCounts ?? [];
    const stale = hasNoRecordedValue(p);
    if (!stale && rawCounts.length !== 0 && rawCounts.length !== bounds.length + 1) {
      context.problems.drop(
        'invalid_point',
        family.name,
        `histogram ${family.name} has ${rawCounts.length} buckets for ${bounds.length} bounds; dropped`,
      );
      return false;
    }
    let counts = rawCounts.length === 0 ? new Array<number>(bounds.length + 1).fill(0) : rawCounts.map(int64ToNumber);
    let count = int64ToNumber(p.count);
    let sum: number | undefined = p.sum ?? undefined;
    if (stale) {
      if (delta) context.deltas.forget(streamKey);
    } else if (delta) {
      const state = context.deltas.addHistogram(streamKey, nanosToNumber(p.timeUnixNano), bounds, counts, count, sum);
      if (!state) {
        context.problems.outOfOrder(family.name);
        return false;
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
    writeClassicBuckets(context, family, labels, timestampMs, { upper, cumulative, count, sum }, stale, exemplars, out);
    return true;
  },
};

/** A histogram in classic form: cumulative counts per upper bound (the last +Inf), count, and sum if known. */
export interface ClassicBuckets {
  readonly upper: number[];
  readonly cumulative: number[];
  readonly count: number;
  readonly sum: number | undefined;
}

/** The `_bucket`, `_sum` and `_count` samples of one point; all staleness markers when `stale`. */
export function writeClassicBuckets(
  context: PointContext,
  family: MetricFamily,
  labels: PointLabels,
  timestampMs: number,
  buckets: ClassicBuckets,
  stale: boolean,
  exemplars: (PromExemplar[] | undefined)[] | undefined,
  out: SeriesSample[],
): void {
  const names = context.ids.namesOf(family);
  const ids = context.ids.bucketIds(labels, names.bucket, buckets.upper);
  for (let i = 0; i < ids.length; i++) {
    pushSample(out, ids[i], family, 'bucket', timestampMs, buckets.cumulative[i], stale, exemplars?.[i]);
  }
  if (buckets.sum !== undefined || stale) {
    pushSample(out, context.ids.seriesOf(labels, names.sum), family, 'sum', timestampMs, buckets.sum ?? 0, stale);
  }
  pushSample(out, context.ids.seriesOf(labels, names.count), family, 'count', timestampMs, buckets.count, stale);
}
