/**
 * The remote write exporter's memory of the series this environment wrote:
 * the last timestamp of each (remote write refuses a sample that is not newer
 * than its series' last one, so such a sample is dropped here, counted, instead
 * of failing a request) and what is needed to end each series with a
 * staleness marker at SHUTDOWN, so a finished execution environment leaves
 * instant queries at once instead of lingering for the five-minute lookback.
 *
 * The memory is bounded in series (OBSERVED_REMOTE_WRITE_STALE_SERIES) and in
 * label bytes; beyond either the least recently written are forgotten: they
 * end with the lookback instead.
 */
import type { Label } from '../../translate/labels.js';
import { EMPTY_NATIVE_HISTOGRAM, type MetricFamily, type SeriesSample } from '../../translate/series.js';
import { seriesBytes } from './series-queue.js';

/** Label bytes of the series remembered; beyond it, the least recently written go. */
export const WRITTEN_SERIES_MAX_BYTES = 16 * 1024 * 1024;

interface WrittenSeries {
  readonly labels: readonly Label[];
  readonly bytes: number;
  readonly family: MetricFamily;
  lastMs: number;
  nativeHistogram: boolean;
  /** A staleness marker was the last thing queued. */
  ended: boolean;
  /** The backend refused samples of it: no staleness marker. */
  refused: boolean;
  /** When it was last written, and when it took its place in `written`'s order (see forgetBeyondBound). */
  writtenSeq: number;
  placedSeq: number;
}

/** Whether a sample may be queued: `repeat` is a target_info repeated at the same time (not news, not a drop). */
export type Admission = 'accepted' | 'repeat' | 'duplicate_timestamp' | 'out_of_order';

export class StaleSeriesMemory {
  /** Least recently written first (a Map keeps insertion order). */
  private readonly written = new Map<string, WrittenSeries>();
  private bytes = 0;
  /** Counts writes, to order series by when they were last written. */
  private writeSeq = 0;

  constructor(private readonly maxSeries: number) {}

  has(key: string): boolean {
    return this.written.has(key);
  }

  /**
   * The backend refused samples of this series: it gets no staleness marker
   * (the backend would refuse it too, and where the refusal was out of order,
   * the series is another environment's as well and not this one's to end).
   */
  refused(key: string): void {
    const series = this.written.get(key);
    if (series) series.refused = true;
  }

  /** Checks a sample against its series' last timestamp and, if it is newer, remembers it. */
  admit(sample: SeriesSample): Admission {
    const known = this.written.get(sample.key);
    if (known) {
      if (sample.timestampMs <= known.lastMs) {
        // target_info repeats with every payload of a resource; an equal timestamp is not news.
        if (sample.family.name === 'target_info') return 'repeat';
        return sample.timestampMs === known.lastMs ? 'duplicate_timestamp' : 'out_of_order';
      }
      known.lastMs = sample.timestampMs;
      known.ended = sample.stale === true;
      if (sample.histogram && !sample.stale) known.nativeHistogram = true;
      known.writtenSeq = ++this.writeSeq;
      return 'accepted';
    }
    const bytes = seriesBytes(sample.key, sample.labels);
    const seq = ++this.writeSeq;
    this.written.set(sample.key, {
      labels: sample.labels,
      bytes,
      family: sample.family,
      lastMs: sample.timestampMs,
      nativeHistogram: sample.histogram !== undefined,
      ended: sample.stale === true,
      refused: false,
      writtenSeq: seq,
      placedSeq: seq,
    });
    this.bytes += bytes;
    return 'accepted';
  }

  /**
   * Forgets the least recently written beyond the bounds and returns how many
   * went. `written` keeps the order series were placed in; a series written
   * again since is moved to the end when the scan reaches it instead of at
   * every write (a Map delete and set per sample), so the order is by last
   * write to within the writes since the last scan.
   */
  forgetBeyondBound(): number {
    const within = () => this.written.size <= this.maxSeries && this.bytes <= WRITTEN_SERIES_MAX_BYTES;
    if (within()) return 0;
    let forgotten = 0;
    for (const [key, series] of this.written) {
      if (within()) break;
      this.written.delete(key);
      if (series.writtenSeq !== series.placedSeq) {
        // Written since it was placed: it goes to the end, once (the Map visits it again, then in place).
        series.placedSeq = series.writtenSeq;
        this.written.set(key, series);
        continue;
      }
      this.bytes -= series.bytes;
      forgotten++;
    }
    return forgotten;
  }

  /** A staleness marker for every remembered series not already ended, each later than its last sample. */
  staleMarkers(nowMs: number): SeriesSample[] {
    const markers: SeriesSample[] = [];
    for (const [key, series] of this.written) {
      if (series.ended || series.refused) continue;
      markers.push({
        key,
        labels: series.labels,
        family: series.family,
        role: 'value',
        timestampMs: Math.max(nowMs, series.lastMs + 1),
        value: Number.NaN,
        stale: true,
        histogram: series.nativeHistogram ? EMPTY_NATIVE_HISTOGRAM : undefined,
      });
    }
    return markers;
  }
}
