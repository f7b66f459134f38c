/**
 * The remote write exporter: OTLP metrics in, Prometheus remote write 1.0
 * requests out (protobuf, snappy, optional SigV4 for Amazon Managed Service
 * for Prometheus).
 *
 * Payloads are translated as they arrive (running totals for delta streams
 * need every point in order) and the samples wait in a bounded queue grouped
 * by series. A flush cuts the queue into requests below the size and sample
 * limits and sends them one after another; what cannot be sent before the
 * deadline goes back to the front of the queue. So samples of one series leave
 * in time order and are never sent out of order, which remote write refuses.
 *
 * Nothing is lost silently: every sample dropped (queue full, rejected by the
 * backend, out of order, undecodable input, not delivered by the end of
 * SHUTDOWN) is counted by reason, and each kind of drop is logged once, with
 * its count. Samples in a request on the wire count as pending until the
 * answer comes; from SHUTDOWN on, whatever is not yet delivered is reported
 * as dropped (reason `shutdown`), so the totals the extension logs as it
 * exits add up even when it exits with a request still unanswered.
 *
 * At shutdown every series this environment wrote gets a staleness marker, so
 * a finished execution environment disappears from instant queries at once
 * instead of lingering for Prometheus's five-minute lookback. The series
 * remembered for that are bounded in number (OBSERVED_REMOTE_WRITE_STALE_SERIES)
 * and in label bytes; beyond either bound the least recently written are
 * forgotten (and counted): they end with the lookback instead.
 */

import { credentialsFromEnv } from '../../aws/credentials.js';
import { RequestSigner } from '../../aws/sigv4.js';
import type { Exporter } from '../../contracts/exporter.js';
import type { OtlpPayload } from '../../contracts/payload.js';
import type { Signal } from '../../otlp/types.js';
import type { Label } from '../../translate/labels.js';
import type { MetricFamily, NativeHistogram, SeriesSample } from '../../translate/series.js';
import { PrometheusTranslator } from '../../translate/translator.js';
import { translatePayload } from '../metrics-payload.js';
import { BackendHealth } from '../retry.js';
import { SerialFlush } from '../serial-flush.js';
import type { RemoteWriteOptions } from './config.js';
import { compress, LabelBlockCache, type WritePoint, writeMetadata, writeSeries } from './encode.js';
import { ProtoWriter } from './proto-writer.js';
import { type HttpCall, type RetryPolicy, sendWithRetry, userAgent } from './send.js';

export type RemoteWriteDropReason =
  | 'queue_full'
  | 'rejected'
  | 'out_of_order'
  | 'duplicate_timestamp'
  | 'undecodable'
  | 'translation'
  | 'shutdown';

export interface RemoteWriteCounters {
  /** OTLP data points taken in. */
  pointsReceived: number;
  /** Samples (floats and native histograms) produced by translation and queued. */
  samplesQueued: number;
  samplesSent: number;
  samplesDropped: Record<string, number>;
  requestsSent: number;
  requestsRetried: number;
  /** Staleness markers written at SHUTDOWN: not data a function sent, so counted apart from samples. */
  staleMarkersSent: number;
  staleMarkersDropped: number;
  /** Series forgotten beyond the bound of remembered series: no staleness marker at SHUTDOWN. */
  seriesForgotten: number;
  /** Label values shortened to OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH (once per label set built). */
  labelValuesShortened: number;
}

export interface RemoteWriteDeps {
  /** One line per event worth a human's attention. */
  readonly log?: (message: string) => void;
  /** Where AWS credentials are read from (the process environment by default). */
  readonly env?: NodeJS.ProcessEnv;
  readonly retry?: Partial<RetryPolicy>;
  /** Cool-down after failed flushes (so a dead backend does not cost every invocation its whole deadline). */
  readonly health?: BackendHealth;
}

/** A queued point; `marker` tells this exporter's own staleness markers from the function's samples. */
interface QueuedPoint extends WritePoint {
  readonly marker?: boolean;
}

interface PendingSeries {
  readonly key: string;
  readonly labels: readonly Label[];
  readonly family: MetricFamily;
  points: QueuedPoint[];
}

/** Approximate heap bytes of a series' identity (key and labels), for the byte bounds. */
function seriesBytes(key: string, labels: readonly Label[]): number {
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

/** Samples and staleness markers, counted apart. */
interface Tally {
  samples: number;
  markers: number;
}

function tally(points: readonly QueuedPoint[], into: Tally = { samples: 0, markers: 0 }): Tally {
  for (const p of points) {
    if (p.marker) into.markers++;
    else into.samples++;
  }
  return into;
}

interface WrittenSeries {
  readonly labels: readonly Label[];
  readonly bytes: number;
  readonly family: MetricFamily;
  lastMs: number;
  nativeHistogram: boolean;
  /** A staleness marker was the last thing queued. */
  ended: boolean;
  /** When it was last written, and when it took its place in `written`'s order (see forgetBeyondBound). */
  writtenSeq: number;
  placedSeq: number;
}

interface Batch {
  readonly body: Uint8Array;
  readonly series: PendingSeries[];
  /** Points in the request, staleness markers included. */
  readonly samples: number;
  /** Of which staleness markers. */
  readonly markers: number;
}

/**
 * Requests on the wire at once per flush. Each series belongs to one shard
 * (by a hash of its key) and a shard sends its requests in turn, so the
 * samples of a series still arrive in time order, as remote write requires.
 */
const SEND_SHARDS = 4;

function shardBySeries(series: Iterable<PendingSeries>, shards: number): PendingSeries[][] {
  if (shards === 1) return [[...series]];
  const out: PendingSeries[][] = Array.from({ length: shards }, () => []);
  for (const s of series) {
    let h = 0;
    for (let i = 0; i < s.key.length; i++) h = (Math.imul(h, 31) + s.key.charCodeAt(i)) | 0;
    out[(h >>> 0) % shards].push(s);
  }
  return out.filter((shard) => shard.length > 0);
}

/** Label bytes of the series remembered for staleness markers; beyond it, the least recently written go. */
const WRITTEN_SERIES_MAX_BYTES = 16 * 1024 * 1024;

const STALE_HISTOGRAM: NativeHistogram = {
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

export class RemoteWriteExporter implements Exporter {
  readonly name = 'remote-write';
  readonly signals: readonly Signal[] = ['metrics'];
  readonly translator: PrometheusTranslator;
  private pending = new Map<string, PendingSeries>();
  /** Queued points, staleness markers included (the queue bound counts both). */
  private pendingSamples = 0;
  private pendingMarkers = 0;
  /** Approximate heap bytes of the queue (OBSERVED_REMOTE_WRITE_QUEUE_BYTES bounds it). */
  private pendingBytes = 0;
  /** Approximate bytes of `written`, least recently written first (a Map keeps insertion order). */
  private writtenBytes = 0;
  /** Counts writes, to order series by when they were last written. */
  private writeSeq = 0;
  /** Points handed to the flush under way and not yet delivered, rejected or put back. */
  private inFlight: Tally = { samples: 0, markers: 0 };
  /** Bumped when SHUTDOWN gives up on the flush under way: its late outcome is then ignored. */
  private generation = 0;
  /** From SHUTDOWN (or the final flush's deadline) on, undelivered points are reported as dropped. */
  private closing = false;
  private readonly written = new Map<string, WrittenSeries>();
  private readonly writer = new ProtoWriter();
  private readonly labelBlocks = new LabelBlockCache();
  private readonly signer: RequestSigner | undefined;
  private readonly log: (message: string) => void;
  private readonly retry: RetryPolicy;
  private readonly logged = new Set<string>();
  private readonly health: BackendHealth;
  private readonly rounds: SerialFlush;
  private readonly counters: RemoteWriteCounters = {
    pointsReceived: 0,
    samplesQueued: 0,
    samplesSent: 0,
    samplesDropped: {},
    requestsSent: 0,
    requestsRetried: 0,
    staleMarkersSent: 0,
    staleMarkersDropped: 0,
    seriesForgotten: 0,
    labelValuesShortened: 0,
  };

  constructor(
    readonly options: RemoteWriteOptions,
    deps: RemoteWriteDeps = {},
  ) {
    this.translator = new PrometheusTranslator(options.translate);
    this.log = deps.log ?? ((message) => console.log(`[observed-lambda] remote-write: ${message}`));
    this.translator.onWarning = (message) => this.log(message);
    this.retry = { timeoutMs: options.timeoutMs, initialBackoffMs: 100, maxBackoffMs: 5_000, ...deps.retry };
    this.health = deps.health ?? new BackendHealth();
    this.rounds = new SerialFlush(
      this.health,
      (deadlineMs, final) => this.sendPending(deadlineMs, final ? undefined : this.health.attemptsAllowed()),
      () => this.pendingSamples > 0,
    );
    if (options.sigv4Region) {
      const env = deps.env ?? process.env;
      this.signer = new RequestSigner('aps', options.sigv4Region, () => credentialsFromEnv(env));
    }
  }

  /**
   * A snapshot of the exporter's counters, translation drops included. Once
   * SHUTDOWN has begun (or the final flush's deadline has passed), what is
   * still undelivered shows as dropped with reason `shutdown`: the extension
   * may exit at any moment then, and nothing it still holds will be sent.
   */
  stats(): RemoteWriteCounters {
    const samplesDropped = { ...this.counters.samplesDropped };
    for (const [reason, count] of this.translator.dropped) samplesDropped[`translation_${reason}`] = count;
    let staleMarkersDropped = this.counters.staleMarkersDropped;
    const closing = this.closing || this.rounds.finalDeadlinePassed();
    if (closing) {
      const left = this.undelivered();
      if (left.samples > 0) samplesDropped.shutdown = (samplesDropped.shutdown ?? 0) + left.samples;
      staleMarkersDropped += left.markers;
    }
    return {
      ...this.counters,
      samplesDropped,
      staleMarkersDropped,
      labelValuesShortened: this.translator.labelValuesShortened,
    };
  }

  private undelivered(): Tally {
    return {
      samples: this.pendingSamples - this.pendingMarkers + this.inFlight.samples,
      markers: this.pendingMarkers + this.inFlight.markers,
    };
  }

  enqueue(payload: OtlpPayload): void {
    if (payload.signal !== 'metrics') return;
    this.counters.pointsReceived += payload.items;
    const samples = translatePayload(this.translator, payload, (points, message) =>
      this.drop('undecodable', points, message),
    );
    if (!samples) return;
    for (const sample of samples) this.add(sample);
    this.trim();
    this.forgetBeyondBound();
    this.sendWhenFull();
  }

  /**
   * A full round of requests is queued: send it now, while the environment
   * runs, instead of letting the queue fill up (and drop) until the next flush.
   */
  private sendWhenFull(): void {
    if (this.closing || this.rounds.final || this.rounds.busy) return;
    if (this.pendingSamples < this.options.maxSamples * SEND_SHARDS || this.health.coolingDown()) return;
    this.rounds.flush(Date.now() + this.retry.timeoutMs).then(
      // What arrived meanwhile may be a full round again.
      () => this.sendWhenFull(),
      (error) => this.logOnce('send-when-full', `sending a full queue failed: ${String(error)}`),
    );
  }

  /**
   * Bounds the series remembered for staleness markers: the least recently
   * written are forgotten, counted. `written` keeps the order series were
   * placed in; a series written again since is moved to the end when the scan
   * reaches it instead of at every write (a Map delete and set per sample),
   * so the order is by last write to within the writes since the last scan.
   */
  private forgetBeyondBound(): void {
    const maxSeries = this.options.maxStaleSeries;
    const within = () => this.written.size <= maxSeries && this.writtenBytes <= WRITTEN_SERIES_MAX_BYTES;
    if (within()) return;
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
      this.writtenBytes -= series.bytes;
      forgotten++;
    }
    this.counters.seriesForgotten += forgotten;
    this.logOnce(
      'series-forgotten',
      `more than ${maxSeries} series (OBSERVED_REMOTE_WRITE_STALE_SERIES) or ${WRITTEN_SERIES_MAX_BYTES} bytes of labels written; the least recently written are forgotten and get no staleness marker at SHUTDOWN (counted)`,
    );
  }

  /** Samples queued or on the wire (staleness markers are not items a function sent). */
  pendingItems(): number {
    return this.undelivered().samples;
  }

  /** `final` comes from the pipeline's SHUTDOWN flush (see ../serial-flush.ts). */
  flush(deadlineMs: number, options: { final?: boolean } = {}): Promise<void> {
    return this.rounds.flush(deadlineMs, options);
  }

  async shutdown(deadlineMs: number): Promise<void> {
    this.closing = true;
    const now = Date.now();
    for (const [key, series] of this.written) {
      if (series.ended) continue;
      this.add(
        {
          key,
          labels: series.labels,
          family: series.family,
          role: 'value',
          timestampMs: Math.max(now, series.lastMs + 1),
          value: Number.NaN,
          stale: true,
          histogram: series.nativeHistogram ? STALE_HISTOGRAM : undefined,
        },
        true,
      );
    }
    await this.rounds.flush(deadlineMs, { final: true });
    this.abandon();
  }

  /** The end of SHUTDOWN: whatever is queued or still unanswered on the wire is counted as dropped. */
  private abandon(): void {
    const left = this.undelivered();
    this.generation++;
    this.pending = new Map();
    this.pendingSamples = 0;
    this.pendingMarkers = 0;
    this.pendingBytes = 0;
    this.inFlight = { samples: 0, markers: 0 };
    this.counters.staleMarkersDropped += left.markers;
    this.drop('shutdown', left.samples, 'samples not delivered by the end of SHUTDOWN (queued or unanswered)');
    if (left.markers > 0) {
      this.logOnce('stale-dropped', `${left.markers} staleness marker(s) not delivered by the end of SHUTDOWN`);
    }
  }

  private add(sample: SeriesSample, marker = false): void {
    const known = this.written.get(sample.key);
    if (known) {
      if (sample.timestampMs <= known.lastMs) {
        // target_info repeats with every payload of a resource; an equal timestamp is not news.
        if (sample.family.name === 'target_info') return;
        const reason = sample.timestampMs === known.lastMs ? 'duplicate_timestamp' : 'out_of_order';
        this.drop(reason, 1, `a sample of ${sample.family.name} is not newer than the last one of its series`);
        return;
      }
      known.lastMs = sample.timestampMs;
      known.ended = sample.stale === true;
      if (sample.histogram && !sample.stale) known.nativeHistogram = true;
      known.writtenSeq = ++this.writeSeq;
    } else {
      const bytes = seriesBytes(sample.key, sample.labels);
      const seq = ++this.writeSeq;
      this.written.set(sample.key, {
        labels: sample.labels,
        bytes,
        family: sample.family,
        lastMs: sample.timestampMs,
        nativeHistogram: sample.histogram !== undefined,
        ended: sample.stale === true,
        writtenSeq: seq,
        placedSeq: seq,
      });
      this.writtenBytes += bytes;
    }
    let series = this.pending.get(sample.key);
    if (!series) {
      series = { key: sample.key, labels: sample.labels, family: sample.family, points: [] };
      this.pending.set(sample.key, series);
      this.pendingBytes += seriesBytes(sample.key, sample.labels);
    }
    series.points.push(marker ? { ...sample, marker } : sample);
    this.pendingBytes += pointBytes(sample);
    this.pendingSamples++;
    if (marker) this.pendingMarkers++;
    else this.counters.samplesQueued++;
  }

  /** Bounded queue (samples and bytes): beyond either limit the oldest series' samples go first. */
  private trim(): void {
    const { maxQueuedSamples, maxQueuedBytes } = this.options;
    const within = () => this.pendingSamples <= maxQueuedSamples && this.pendingBytes <= maxQueuedBytes;
    if (within()) return;
    const dropped: Tally = { samples: 0, markers: 0 };
    for (const [key, series] of this.pending) {
      if (within()) break;
      this.pending.delete(key);
      this.pendingSamples -= series.points.length;
      this.pendingBytes -= seriesQueueBytes(series);
      tally(series.points, dropped);
    }
    this.pendingMarkers -= dropped.markers;
    this.counters.staleMarkersDropped += dropped.markers;
    this.drop(
      'queue_full',
      dropped.samples,
      `queue over ${maxQueuedSamples} samples (OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES) or ${maxQueuedBytes} bytes (OBSERVED_REMOTE_WRITE_QUEUE_BYTES); oldest dropped`,
    );
  }

  private drop(reason: RemoteWriteDropReason, count: number, message: string): void {
    if (count <= 0) return;
    this.counters.samplesDropped[reason] = (this.counters.samplesDropped[reason] ?? 0) + count;
    const key = `${reason}:${message}`;
    if (this.logged.has(key) || this.logged.size > 500) return;
    this.logged.add(key);
    this.log(`dropped ${count} sample(s), ${reason}: ${message} (further drops of this kind are only counted)`);
  }

  private async sendPending(deadlineMs: number, maxAttempts: number | undefined): Promise<void> {
    const batch = this.pending;
    const generation = this.generation;
    this.pending = new Map();
    this.inFlight = { samples: this.pendingSamples - this.pendingMarkers, markers: this.pendingMarkers };
    this.pendingSamples = 0;
    this.pendingMarkers = 0;
    this.pendingBytes = 0;
    // Requests are built before any is sent: the proto writer is shared.
    const shardCount = Math.min(SEND_SHARDS, Math.ceil(this.inFlight.samples / this.options.maxSamples));
    const shards = shardBySeries(batch.values(), Math.max(1, shardCount)).map((series) => this.buildRequests(series));
    const leftover = await Promise.all(
      shards.map((requests) => this.sendShard(requests, generation, deadlineMs, maxAttempts)),
    );
    // SHUTDOWN gave up on this flush and counted its points as dropped; the process is about to exit.
    if (generation !== this.generation) return;
    this.inFlight = { samples: 0, markers: 0 };
    const undelivered = leftover.flat();
    if (undelivered.length > 0) this.requeue(undelivered);
  }

  /**
   * Sends one shard's requests one after another (a series always falls in the
   * same shard, so its samples leave in order); returns what was not sent.
   */
  private async sendShard(
    requests: Batch[],
    generation: number,
    deadlineMs: number,
    maxAttempts: number | undefined,
  ): Promise<Batch[]> {
    for (let index = 0; index < requests.length; index++) {
      const request = requests[index];
      const result = await sendWithRetry(
        this.call(request.body),
        deadlineMs,
        this.retry,
        () => {
          this.counters.requestsRetried++;
        },
        maxAttempts,
      );
      if (generation !== this.generation) return [];
      const samples = request.samples - request.markers;
      if (result.outcome !== 'deferred') this.health.succeeded();
      if (result.outcome === 'delivered') {
        this.inFlight.samples -= samples;
        this.inFlight.markers -= request.markers;
        this.counters.requestsSent++;
        this.counters.samplesSent += samples;
        this.counters.staleMarkersSent += request.markers;
      } else if (result.outcome === 'rejected') {
        this.inFlight.samples -= samples;
        this.inFlight.markers -= request.markers;
        this.counters.requestsSent++;
        this.counters.staleMarkersDropped += request.markers;
        const detail = result.message.split('\n')[0];
        this.drop('rejected', samples, `HTTP ${result.status} from ${this.options.url.host}: ${detail}`);
      } else {
        this.health.failed(result.notBeforeMs);
        const rest = requests.slice(index);
        const left = rest.reduce((n, r) => n + r.samples, 0);
        this.logOnce(`deferred:${result.reason}`, `${left} sample(s) kept for the next flush: ${result.reason}`);
        return rest;
      }
    }
    return [];
  }

  private logOnce(key: string, message: string): void {
    if (this.logged.has(key) || this.logged.size > 500) return;
    this.logged.add(key);
    this.log(message);
  }

  /** Undelivered series go back in front of anything queued since, so order is kept. */
  private requeue(batches: Batch[]): void {
    const newer = this.pending;
    this.pending = new Map();
    this.pendingSamples = 0;
    this.pendingMarkers = 0;
    this.pendingBytes = 0;
    const put = (series: PendingSeries) => {
      const existing = this.pending.get(series.key);
      if (existing) existing.points = existing.points.concat(series.points);
      else {
        this.pending.set(series.key, { ...series, points: series.points.slice() });
        this.pendingBytes += seriesBytes(series.key, series.labels);
      }
      for (const p of series.points) this.pendingBytes += pointBytes(p);
      this.pendingSamples += series.points.length;
      this.pendingMarkers += tally(series.points).markers;
    };
    for (const b of batches) for (const s of b.series) put(s);
    for (const s of newer.values()) put(s);
    this.trim();
  }

  private call(body: Uint8Array): HttpCall {
    const url = this.options.url;
    const base: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': userAgent(),
      ...this.options.headers,
    };
    const signer = this.signer;
    if (!signer) return { method: 'POST', url, body, headers: () => base };
    return { method: 'POST', url, body, headers: () => signer.sign({ method: 'POST', url, headers: base, body }) };
  }

  /** Cuts the queued series into requests within the sample and byte limits (metadata included). */
  buildRequests(series: Iterable<PendingSeries>): Batch[] {
    const { maxSamples, maxBytes } = this.options;
    const w = this.writer;
    const out: Batch[] = [];
    let current: PendingSeries[] = [];
    let samples = 0;
    let markers = 0;
    let families = new Map<string, MetricFamily>();
    let metadataBytes = 0;
    w.reset();
    const finish = () => {
      if (current.length === 0) return;
      for (const f of families.values()) writeMetadata(w, f);
      out.push({ body: compress(w.bytes()), series: current, samples, markers });
      w.reset();
      current = [];
      samples = 0;
      markers = 0;
      families = new Map();
      metadataBytes = 0;
    };
    for (const s of series) {
      let points = s.points;
      let take = Math.min(points.length, maxSamples);
      while (points.length > 0) {
        if (samples + take > maxSamples) {
          if (current.length > 0) finish();
          take = Math.min(take, maxSamples);
        }
        const slice = take === points.length ? points : points.slice(0, take);
        const newFamily = !families.has(s.family.name);
        const extraMetadata = newFamily
          ? 24 + (s.family.name.length + s.family.help.length + s.family.unit.length) * 3
          : 0;
        const before = w.pos;
        writeSeries(w, { key: s.key, labels: s.labels, points: slice }, this.labelBlocks);
        if (w.pos + metadataBytes + extraMetadata > maxBytes) {
          if (current.length > 0) {
            w.pos = before;
            finish();
            continue;
          }
          if (take > 1) {
            // A single series too large for one request: send it in halves.
            w.pos = before;
            take = Math.ceil(take / 2);
            continue;
          }
        }
        if (newFamily) {
          families.set(s.family.name, s.family);
          metadataBytes += extraMetadata;
        }
        current.push({ ...s, points: slice });
        samples += slice.length;
        markers += tally(slice).markers;
        points = slice.length === points.length ? [] : points.slice(slice.length);
        take = Math.min(points.length, maxSamples);
      }
    }
    finish();
    return out;
  }
}
