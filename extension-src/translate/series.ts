/**
 * The Prometheus side of the translation: metric families and samples with
 * their full, sorted label sets. Remote write encodes these; the Pushgateway
 * exporter renders the latest of each as text.
 */
import type { Label } from './labels.js';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'info' | 'unknown';

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  /** Prometheus unit word, e.g. "seconds"; empty when unitless. */
  readonly unit: string;
}

export interface BucketSpan {
  readonly offset: number;
  readonly length: number;
}

/** A Prometheus native histogram (integer counts), buckets in sparse span + delta layout. */
export interface NativeHistogram {
  readonly count: number;
  readonly sum: number;
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly negativeSpans: readonly BucketSpan[];
  readonly negativeDeltas: readonly number[];
  readonly positiveSpans: readonly BucketSpan[];
  readonly positiveDeltas: readonly number[];
}

export interface PromExemplar {
  readonly labels: readonly Label[];
  readonly value: number;
  readonly timestampMs: number;
}

/** What a sample is a part of, so the Pushgateway can group it back into a family. */
export type SampleRole = 'value' | 'bucket' | 'sum' | 'count' | 'quantile';

export interface SeriesSample {
  /** Identifies the series (its full label set). */
  readonly key: string;
  /** Sorted by name; includes `__name__`. */
  readonly labels: readonly Label[];
  readonly family: MetricFamily;
  readonly role: SampleRole;
  readonly timestampMs: number;
  /** Float value; ignored when `histogram` is set. */
  readonly value: number;
  readonly histogram?: NativeHistogram;
  /** A Prometheus staleness marker: the series ended (value and histogram sum become the stale NaN). */
  readonly stale?: boolean;
  readonly exemplars?: readonly PromExemplar[];
}

/** Bits of Prometheus's staleness marker NaN (value.StaleNaN). */
export const STALE_NAN_HIGH = 0x7ff00000;
export const STALE_NAN_LOW = 0x00000002;

/** A native histogram with nothing in it (the shape of a native histogram's staleness marker). */
export const EMPTY_NATIVE_HISTOGRAM: NativeHistogram = {
  count: 0,
  sum: 0,
  schema: 0,
  zeroThreshold: 0,
  zeroCount: 0,
  positiveSpans: [],
  positiveDeltas: [],
  negativeSpans: [],
  negativeDeltas: [],
};
