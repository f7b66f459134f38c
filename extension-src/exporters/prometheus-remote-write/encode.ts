/**
 * Prometheus remote write 1.0 request body: a `prometheus.WriteRequest`
 * (prompb/remote.proto, types.proto) in protobuf, snappy block-compressed.
 *
 *   WriteRequest  { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *   TimeSeries    { repeated Label labels = 1; repeated Sample samples = 2;
 *                   repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *   Label         { string name = 1; string value = 2; }
 *   Sample        { double value = 1; int64 timestamp = 2; }
 *   Exemplar      { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
 *   Histogram     { uint64 count_int = 1; double sum = 3; sint32 schema = 4; double zero_threshold = 5;
 *                   uint64 zero_count_int = 6; repeated BucketSpan negative_spans = 8;
 *                   repeated sint64 negative_deltas = 9; repeated BucketSpan positive_spans = 11;
 *                   repeated sint64 positive_deltas = 12; ResetHint reset_hint = 14; int64 timestamp = 15; }
 *   BucketSpan    { sint32 offset = 1; uint32 length = 2; }
 *   MetricMetadata{ MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 */
import snappy from 'snappyjs';
import type { Label } from '../../translate/labels.js';
import {
  type BucketSpan,
  type MetricFamily,
  type NativeHistogram,
  type PromExemplar,
  STALE_NAN_HIGH,
  STALE_NAN_LOW,
} from '../../translate/series.js';
import { varintSize, type WireWriter } from '../../wire/writer.js';

/** One series of a request: its labels and the points to send, oldest first. */
export interface WriteSeries {
  /** Identifies the label set, for the encoded-labels cache. */
  readonly key?: string;
  readonly labels: readonly Label[];
  readonly points: readonly WritePoint[];
}

export interface WritePoint {
  readonly timestampMs: number;
  readonly value: number;
  readonly histogram?: NativeHistogram;
  readonly stale?: boolean;
  readonly exemplars?: readonly PromExemplar[];
}

const METRIC_TYPES: Record<MetricFamily['type'], number> = {
  unknown: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  summary: 5,
  info: 6,
};

const utf8 = new TextEncoder();

/**
 * The protobuf size of a series' labels (each `Label` message, without the
 * enclosing field's tag and length), summed: what Cortex compares with its
 * `max_labels_size_bytes` limit and AMP with its label size quota.
 */
export function labelsWireBytes(labels: readonly Label[]): number {
  let total = 0;
  for (const l of labels) {
    const name = utf8.encode(l.name).length;
    const value = utf8.encode(l.value).length;
    if (name > 0) total += 1 + varintSize(name) + name;
    if (value > 0) total += 1 + varintSize(value) + value;
  }
  return total;
}

function writeLabels(w: WireWriter, field: number, labels: readonly Label[]): void {
  for (const l of labels) {
    const at = w.begin(field);
    w.string(1, l.name);
    w.string(2, l.value);
    w.end(at);
  }
}

function writeSpans(w: WireWriter, field: number, spans: readonly BucketSpan[]): void {
  for (const s of spans) {
    const at = w.begin(field);
    w.sint(1, s.offset);
    w.integer(2, s.length);
    w.end(at);
  }
}

function writeHistogram(w: WireWriter, h: NativeHistogram, timestampMs: number, stale: boolean): void {
  const at = w.begin(4);
  w.integer(1, h.count);
  if (stale) w.doubleBits(3, STALE_NAN_HIGH, STALE_NAN_LOW);
  else w.double(3, h.sum);
  w.sint(4, h.schema);
  w.double(5, h.zeroThreshold);
  w.integer(6, h.zeroCount);
  writeSpans(w, 8, h.negativeSpans);
  w.packedSint(9, h.negativeDeltas);
  writeSpans(w, 11, h.positiveSpans);
  w.packedSint(12, h.positiveDeltas);
  w.integer(15, timestampMs);
  w.end(at);
}

/**
 * Encoded label blocks by series key. The same series come back at every
 * flush, and their labels are most of the bytes, so they are encoded once.
 */
export class LabelBlockCache {
  private readonly blocks = new Map<string, Uint8Array>();

  constructor(private readonly limit = 50_000) {}

  get(key: string): Uint8Array | undefined {
    return this.blocks.get(key);
  }

  set(key: string, block: Uint8Array): void {
    if (this.blocks.size >= this.limit) this.blocks.clear();
    this.blocks.set(key, block);
  }
}

function isPlain(points: readonly WritePoint[]): boolean {
  for (const p of points) if (p.histogram || p.exemplars || p.timestampMs < 0) return false;
  return true;
}

function writeSample(w: WireWriter, p: WritePoint): void {
  const s = w.begin(2);
  if (p.stale) w.doubleBits(1, STALE_NAN_HIGH, STALE_NAN_LOW);
  else w.double(1, p.value);
  w.integer(2, p.timestampMs);
  w.end(s);
}

/** Appends one TimeSeries message (field 1 of WriteRequest). */
export function writeSeries(w: WireWriter, series: WriteSeries, cache?: LabelBlockCache): void {
  const block = cache && series.key !== undefined ? cache.get(series.key) : undefined;
  if (block && isPlain(series.points)) {
    // The common case, sized up front so nothing moves: cached labels, then float samples.
    let size = block.length;
    for (const p of series.points) size += 12 + varintSize(p.timestampMs);
    w.tag(1, 2);
    w.varint(size);
    w.raw(block);
    for (const p of series.points) writeSample(w, p);
    return;
  }
  const at = w.begin(1);
  if (block) {
    w.raw(block);
  } else {
    const start = w.pos;
    writeLabels(w, 1, series.labels);
    if (cache && series.key !== undefined) cache.set(series.key, w.copy(start, w.pos));
  }
  let hasExemplars = false;
  for (const p of series.points) {
    if (p.exemplars) hasExemplars = true;
    if (!p.histogram) writeSample(w, p);
  }
  if (hasExemplars) {
    for (const p of series.points) {
      for (const e of p.exemplars ?? []) {
        const x = w.begin(3);
        writeLabels(w, 1, e.labels);
        w.double(2, e.value);
        w.integer(3, e.timestampMs);
        w.end(x);
      }
    }
  }
  for (const p of series.points) if (p.histogram) writeHistogram(w, p.histogram, p.timestampMs, p.stale === true);
  w.end(at);
}

/** Appends one MetricMetadata message (field 3 of WriteRequest). */
export function writeMetadata(w: WireWriter, family: MetricFamily): void {
  const at = w.begin(3);
  w.integer(1, METRIC_TYPES[family.type]);
  w.string(2, family.name);
  if (family.help) w.string(4, family.help);
  if (family.unit) w.string(5, family.unit);
  w.end(at);
}

/** Snappy block format, as remote write's `Content-Encoding: snappy` means. */
export function compress(body: Uint8Array): Uint8Array {
  return snappy.compress(body);
}
