/**
 * Delta-to-cumulative state. Prometheus stores running totals, so delta
 * points (the SDK's DELTA temporality) are added up per stream here. The
 * extension process lives as long as the execution environment, and the
 * function's SDK lives inside the same environment, so the extension sees
 * every delta of a stream from its start and the totals are exact.
 *
 * A point at or before the stream's last time is a repeat or out of order and
 * is refused (the caller drops and counts it); gaps (no recordings in an
 * interval, so the SDK sent nothing) are fine.
 */
import { sameBounds } from './bounds.js';
import { addBuckets, downscale, type ExponentialPoint } from './exponential.js';

export interface SumState {
  kind: 'sum';
  lastNanos: number;
  value: number;
}

export interface HistogramState {
  kind: 'histogram';
  lastNanos: number;
  bounds: number[];
  counts: number[];
  count: number;
  sum: number;
  hasSum: boolean;
}

export interface ExponentialState extends ExponentialPoint {
  kind: 'exponential';
  lastNanos: number;
}

export type StreamState = SumState | HistogramState | ExponentialState;

export class DeltaAccumulator {
  private readonly streams = new Map<string, StreamState>();

  get size(): number {
    return this.streams.size;
  }

  forget(key: string): void {
    this.streams.delete(key);
  }

  /** Adds a delta sum; returns the running total, or undefined when the point is out of order. */
  addSum(key: string, timeNanos: number, delta: number): number | undefined {
    const state = this.streams.get(key);
    if (state === undefined || state.kind !== 'sum') {
      this.streams.set(key, { kind: 'sum', lastNanos: timeNanos, value: delta });
      return delta;
    }
    if (timeNanos <= state.lastNanos) return undefined;
    state.lastNanos = timeNanos;
    state.value += delta;
    return state.value;
  }

  /** Adds a delta explicit-bucket histogram; a change of bucket bounds starts the total again (a reset). */
  addHistogram(
    key: string,
    timeNanos: number,
    bounds: number[],
    counts: number[],
    count: number,
    sum: number | undefined,
  ): HistogramState | undefined {
    const state = this.streams.get(key);
    if (state === undefined || state.kind !== 'histogram' || !sameBounds(state.bounds, bounds)) {
      const fresh: HistogramState = {
        kind: 'histogram',
        lastNanos: timeNanos,
        bounds,
        counts: counts.slice(),
        count,
        sum: sum ?? 0,
        hasSum: sum !== undefined,
      };
      this.streams.set(key, fresh);
      return fresh;
    }
    if (timeNanos <= state.lastNanos) return undefined;
    state.lastNanos = timeNanos;
    for (let i = 0; i < counts.length; i++) state.counts[i] += counts[i];
    state.count += count;
    if (sum === undefined) state.hasSum = false;
    else state.sum += sum;
    return state;
  }

  /** Adds a delta exponential histogram, merging at the coarser of the two scales. */
  addExponential(key: string, timeNanos: number, point: ExponentialPoint): ExponentialState | undefined {
    const state = this.streams.get(key);
    if (state === undefined || state.kind !== 'exponential') {
      const fresh: ExponentialState = {
        kind: 'exponential',
        lastNanos: timeNanos,
        ...point,
        positive: { offset: point.positive.offset, counts: point.positive.counts.slice() },
        negative: { offset: point.negative.offset, counts: point.negative.counts.slice() },
      };
      this.streams.set(key, fresh);
      return fresh;
    }
    if (timeNanos <= state.lastNanos) return undefined;
    const scale = Math.min(state.scale, point.scale);
    state.positive = addBuckets(
      downscale(state.positive, state.scale - scale),
      downscale(point.positive, point.scale - scale),
    );
    state.negative = addBuckets(
      downscale(state.negative, state.scale - scale),
      downscale(point.negative, point.scale - scale),
    );
    state.scale = scale;
    state.lastNanos = timeNanos;
    state.zeroCount += point.zeroCount;
    state.zeroThreshold = Math.max(state.zeroThreshold, point.zeroThreshold);
    state.count += point.count;
    if (!point.hasSum) state.hasSum = false;
    else state.sum += point.sum;
    return state;
  }
}
