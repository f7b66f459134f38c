/**
 * What every point writer (number-points.ts, histogram-points.ts,
 * exponential-points.ts, summary-points.ts) shares, and the one shape they
 * have: the translator finds a point's labels, checks the label count and
 * reads its time alike for all, then hands the point to its writer.
 */
import { FLAG_NO_RECORDED_VALUE, type Int64, type KeyValue } from '../otlp/types.js';
import type { DeltaAccumulator } from './accumulate.js';
import type { LabelLimits } from './label-limits.js';
import type { TranslateOptions } from './options.js';
import type { TranslationProblems } from './problems.js';
import type { MetricFamily, PromExemplar, SampleRole, SeriesSample } from './series.js';
import type { PointLabels, SeriesId, SeriesIds } from './series-ids.js';

export interface PointContext {
  readonly options: TranslateOptions;
  readonly ids: SeriesIds;
  readonly limits: LabelLimits;
  readonly problems: TranslationProblems;
  /** Running totals of delta streams (delta temporality becomes cumulative). */
  readonly deltas: DeltaAccumulator;
}

/** What every OTLP data point has. */
export interface DataPoint {
  readonly attributes?: KeyValue[];
  readonly timeUnixNano?: Int64;
  readonly flags?: number;
}

export interface PointWriter<P extends DataPoint> {
  /** Labels each of the point's series has besides the point's own: `__name__`, and `le` or `quantile`. */
  readonly extraLabels: number;
  /**
   * Writes the point's samples to `out` at `timestampMs`, its series labelled
   * from `labels`; false when the point was dropped (and counted).
   */
  write(
    context: PointContext,
    family: MetricFamily,
    point: P,
    labels: PointLabels,
    timestampMs: number,
    out: SeriesSample[],
    delta: boolean,
  ): boolean;
}

/** A point flagged NoRecordedValue: its series ended, and it becomes a staleness marker. */
export function hasNoRecordedValue(point: { flags?: number | null }): boolean {
  return ((point.flags ?? 0) & FLAG_NO_RECORDED_VALUE) !== 0;
}

/** One float sample of a series; a staleness marker when `stale`, whatever the value. */
export function pushSample(
  out: SeriesSample[],
  id: SeriesId,
  family: MetricFamily,
  role: SampleRole,
  timestampMs: number,
  value: number,
  stale: boolean,
  exemplars?: PromExemplar[],
): void {
  out.push({
    key: id.key,
    labels: id.labels,
    family,
    role,
    timestampMs,
    value: stale ? Number.NaN : value,
    stale: stale || undefined,
    exemplars,
  });
}
