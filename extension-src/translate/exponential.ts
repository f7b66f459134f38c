/**
 * Exponential histogram bucket arithmetic: OpenTelemetry's dense layout
 * (offset + counts, bucket i covering (base^i, base^(i+1)], base = 2^(2^-scale))
 * merged, downscaled, and turned into Prometheus's native histogram spans and
 * deltas (bucket j covering (base^(j-1), base^j], hence index + 1) or into
 * classic cumulative `le` buckets.
 */
import type { BucketSpan, NativeHistogram } from './series.js';

export interface DenseBuckets {
  offset: number;
  counts: number[];
}

/** An exponential histogram data point with its buckets dense (the delta accumulator keeps running totals of these). */
export interface ExponentialPoint {
  scale: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  hasSum: boolean;
  positive: DenseBuckets;
  negative: DenseBuckets;
}

/** Prometheus accepts native histogram schemas -4..8. */
export const MAX_NATIVE_SCHEMA = 8;
export const MIN_NATIVE_SCHEMA = -4;

/** Buckets at a coarser scale: `by` steps fewer, each merging 2^by neighbours. */
export function downscale(buckets: DenseBuckets, by: number): DenseBuckets {
  if (by <= 0 || buckets.counts.length === 0) return buckets;
  const first = buckets.offset >> by;
  const last = (buckets.offset + buckets.counts.length - 1) >> by;
  const counts = new Array<number>(last - first + 1).fill(0);
  for (let i = 0; i < buckets.counts.length; i++) counts[((buckets.offset + i) >> by) - first] += buckets.counts[i];
  return { offset: first, counts };
}

/** Sum of two bucket sets at the same scale. */
export function addBuckets(a: DenseBuckets, b: DenseBuckets): DenseBuckets {
  if (b.counts.length === 0) return a;
  if (a.counts.length === 0) return { offset: b.offset, counts: b.counts.slice() };
  const first = Math.min(a.offset, b.offset);
  const end = Math.max(a.offset + a.counts.length, b.offset + b.counts.length);
  const counts = new Array<number>(end - first).fill(0);
  for (let i = 0; i < a.counts.length; i++) counts[a.offset - first + i] += a.counts[i];
  for (let i = 0; i < b.counts.length; i++) counts[b.offset - first + i] += b.counts[i];
  return { offset: first, counts };
}

/**
 * Spans and deltas of Prometheus's sparse layout. Runs of more than two empty
 * buckets start a new span; shorter runs cost less as zero deltas.
 */
export function toSpans(buckets: DenseBuckets): { spans: BucketSpan[]; deltas: number[] } {
  const spans: BucketSpan[] = [];
  const deltas: number[] = [];
  const counts = buckets.counts;
  let i = 0;
  let previousCount = 0;
  // Index (Prometheus numbering) just after the end of the previous span.
  let previousEnd = 0;
  while (i < counts.length) {
    if (counts[i] === 0) {
      i++;
      continue;
    }
    const start = i;
    let end = i + 1; // exclusive, last non-zero + 1
    let j = i + 1;
    while (j < counts.length) {
      if (counts[j] !== 0) {
        end = j + 1;
        j++;
        continue;
      }
      let k = j;
      while (k < counts.length && counts[k] === 0) k++;
      if (k === counts.length || k - j > 2) break;
      j = k;
    }
    const promIndex = buckets.offset + start + 1;
    spans.push({ offset: spans.length === 0 ? promIndex : promIndex - previousEnd, length: end - start });
    for (let x = start; x < end; x++) {
      deltas.push(counts[x] - previousCount);
      previousCount = counts[x];
    }
    previousEnd = promIndex + (end - start);
    i = end;
  }
  return { spans, deltas };
}

/** Upper boundary of OpenTelemetry bucket `index` at `scale`: base^(index+1). */
export function upperBound(index: number, scale: number): number {
  return 2 ** ((index + 1) * 2 ** -scale);
}

/** Lower boundary of OpenTelemetry bucket `index` at `scale`: base^index. */
export function lowerBound(index: number, scale: number): number {
  return 2 ** (index * 2 ** -scale);
}

/**
 * The point as a Prometheus native histogram: scales finer than Prometheus
 * accepts are merged down to 8; undefined when the scale is coarser than -4.
 */
export function toNativeHistogram(point: ExponentialPoint): NativeHistogram | undefined {
  let { scale, positive, negative } = point;
  if (scale > MAX_NATIVE_SCHEMA) {
    positive = downscale(positive, scale - MAX_NATIVE_SCHEMA);
    negative = downscale(negative, scale - MAX_NATIVE_SCHEMA);
    scale = MAX_NATIVE_SCHEMA;
  }
  if (scale < MIN_NATIVE_SCHEMA) return undefined;
  const pos = toSpans(positive);
  const neg = toSpans(negative);
  return {
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
}

/**
 * The point as classic cumulative buckets, by upper bound: negative buckets
 * (most negative first), the zero bucket, positive buckets, then +Inf.
 */
export function toClassicBuckets(point: ExponentialPoint): { upper: number[]; cumulative: number[] } {
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
  return { upper, cumulative };
}
