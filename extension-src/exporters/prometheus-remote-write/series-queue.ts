/**
 * The remote write exporter's queue: samples waiting to be sent, grouped by
 * series, bounded in samples and approximate heap bytes. A series keeps its
 * points in time order; what a flush could not deliver goes back in front of
 * what arrived meanwhile, so a series' samples still leave in order.
 */
import type { Label } from '../../translate/labels.js';
import type { MetricFamily, SeriesSample } from '../../translate/series.js';
import type { WritePoint } from './encode.js';

/**
 * A queued point; `marker` tells the exporter's own staleness markers from the function's samples, and
 * `unconfirmed` a sample already sent in a request that got no answer (the backend may have stored it).
 */
export interface QueuedPoint extends WritePoint {
  readonly marker?: boolean;
  readonly unconfirmed?: boolean;
}

export interface PendingSeries {
  readonly key: string;
  readonly labels: readonly Label[];
  readonly family: MetricFamily;
  points: QueuedPoint[];
}

/** Samples and staleness markers, counted apart; `unconfirmed` of the samples were sent once without an answer. */
export interface Tally {
  samples: number;
  markers: number;
  unconfirmed: number;
}

export const noPoints = (): Tally => ({ samples: 0, markers: 0, unconfirmed: 0 });

export function tally(points: readonly QueuedPoint[], into: Tally = noPoints()): Tally {
  for (const p of points) {
    if (p.marker) into.markers++;
    else {
      into.samples++;
      if (p.unconfirmed) into.unconfirmed++;
    }
  }
  return into;
}

/** Approximate heap bytes of a series' identity (key and labels), for the byte bounds. */
export function seriesBytes(key: string, labels: readonly Label[]): number {
  let n = 64 + key.length;
  for (const l of labels) n += 32 + l.name.length + l.value.length;
  return n;
}

/** Approximate heap bytes of one queued point. */
function pointBytes(p: WritePoint): number {
  const h = p.histogram;
  if (!h) return 64;
  return (
    160 +
    8 * (h.positiveDeltas.length + h.negativeDeltas.length + 2 * (h.positiveSpans.length + h.negativeSpans.length))
  );
}

function seriesQueueBytes(s: PendingSeries): number {
  let n = seriesBytes(s.key, s.labels);
  for (const p of s.points) n += pointBytes(p);
  return n;
}

export class SeriesQueue {
  private pending = new Map<string, PendingSeries>();
  /** Queued points, staleness markers included (the bound counts both). */
  private points = 0;
  private markers = 0;
  private unconfirmed = 0;
  /** Approximate heap bytes of the queue. */
  private bytes = 0;

  constructor(
    private readonly maxSamples: number,
    private readonly maxBytes: number,
  ) {}

  /** Points queued, staleness markers included. */
  get size(): number {
    return this.points;
  }

  /** What is queued, samples and staleness markers apart. */
  counts(): Tally {
    return { samples: this.points - this.markers, markers: this.markers, unconfirmed: this.unconfirmed };
  }

  add(sample: SeriesSample, marker: boolean): void {
    let series = this.pending.get(sample.key);
    if (!series) {
      series = { key: sample.key, labels: sample.labels, family: sample.family, points: [] };
      this.pending.set(sample.key, series);
      this.bytes += seriesBytes(sample.key, sample.labels);
    }
    series.points.push(marker ? { ...sample, marker } : sample);
    this.bytes += pointBytes(sample);
    this.points++;
    if (marker) this.markers++;
  }

  /** Beyond either bound the oldest series' points go first; returns what was dropped. */
  trim(): Tally {
    const dropped = noPoints();
    const within = () => this.points <= this.maxSamples && this.bytes <= this.maxBytes;
    for (const [key, series] of this.pending) {
      if (within()) break;
      this.pending.delete(key);
      this.points -= series.points.length;
      this.bytes -= seriesQueueBytes(series);
      tally(series.points, dropped);
    }
    this.markers -= dropped.markers;
    this.unconfirmed -= dropped.unconfirmed;
    return dropped;
  }

  /** Empties the queue and returns its series with their counts. */
  takeAll(): { series: Map<string, PendingSeries>; counts: Tally } {
    const series = this.pending;
    const counts = this.counts();
    this.clear();
    return { series, counts };
  }

  clear(): void {
    this.pending = new Map();
    this.points = 0;
    this.markers = 0;
    this.unconfirmed = 0;
    this.bytes = 0;
  }

  /** Undelivered series go back in front of anything queued since, so order is kept; then the bounds apply. */
  requeue(undelivered: Iterable<PendingSeries>): Tally {
    const newer = this.pending;
    this.clear();
    for (const s of undelivered) this.put(s);
    for (const s of newer.values()) this.put(s);
    return this.trim();
  }

  private put(series: PendingSeries): void {
    const existing = this.pending.get(series.key);
    if (existing) existing.points = existing.points.concat(series.points);
    else {
      this.pending.set(series.key, { ...series, points: series.points.slice() });
      this.bytes += seriesBytes(series.key, series.labels);
    }
    for (const p of series.points) this.bytes += pointBytes(p);
    this.points += series.points.length;
    const added = tally(series.points);
    this.markers += added.markers;
    this.unconfirmed += added.unconfirmed;
  }
}
