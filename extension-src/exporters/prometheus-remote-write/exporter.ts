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
 * A request that gets no answer (a timeout, a lost connection) may still
 * have been stored: its samples are sent again, and if they cannot be (the
 * queue overflows, SHUTDOWN ends) they are counted as `unconfirmed` rather
 * than as lost, so arrived + dropped never counts a sample twice.
 *
 * At shutdown every series this environment wrote gets a staleness marker, so
 * a finished execution environment disappears from instant queries at once
 * instead of lingering for Prometheus's five-minute lookback. The series
 * remembered for that are bounded in number (OBSERVED_REMOTE_WRITE_STALE_SERIES)
 * and in label bytes; beyond either bound the least recently written are
 * forgotten (and counted): they end with the lookback instead.
 *
 * This module owns the counters and the order of things; the translation
 * (../metrics-payload.ts), the queue (./series-queue.ts), the memory of written series (./stale-series.ts),
 * the cutting of requests (./requests.ts) and the sending (./sender.ts) are
 * each their own.
 */

import type { Exporter, ExporterCounterRow } from '../../contracts/exporter.js';
import type { OtlpPayload } from '../../contracts/payload.js';
import type { Signal } from '../../otlp/types.js';
import { createLogger, type Logger } from '../../self-telemetry/log.js';
import type { SeriesSample } from '../../translate/series.js';
import { WireWriter } from '../../wire/writer.js';
import type { OneBackendDeps } from '../deps.js';
import { MetricsIntake } from '../metrics-payload.js';
import { SerialFlush } from '../serial-flush.js';
import { retryingOn } from '../transport/classify.js';
import { BackendHealth, DEFAULT_RETRY, type RetryPolicy } from '../transport/retrying.js';
import { classifyAnswer, type RefusalReason } from './answers.js';
import type { RemoteWriteOptions } from './config.js';
import { LabelBlockCache, labelsWireBytes } from './encode.js';
import { type Batch, cutRequests, shardBySeries } from './requests.js';
import { RemoteWriteSender } from './sender.js';
import { noPoints, type PendingSeries, SeriesQueue, type Tally } from './series-queue.js';
import { StaleSeriesMemory, WRITTEN_SERIES_MAX_BYTES } from './stale-series.js';

export type RemoteWriteDropReason =
  | 'queue_full'
  | 'rejected'
  | `rejected_${Exclude<RefusalReason, 'rejected'>}`
  | 'out_of_order'
  | 'duplicate_timestamp'
  | 'labels_too_large'
  | 'undecodable'
  | 'translation'
  | 'rate_limited'
  | 'shutdown'
  | 'unconfirmed';

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

export interface RemoteWriteDeps extends OneBackendDeps {
  /** Where AWS credentials are read from (the process environment by default). */
  readonly env?: NodeJS.ProcessEnv;
}

/** How the log names samples counted as `unconfirmed`. */
const UNCONFIRMED =
  'sent in a request that got no answer (a timeout or a lost connection: the backend may have stored them)';

/**
 * Requests on the wire at once per flush. Each series belongs to one shard
 * (by a hash of its key) and a shard sends its requests in turn, so the
 * samples of a series still arrive in time order, as remote write requires.
 */
const SEND_SHARDS = 4;

/**
 * Extra requests one refused request may cost to find exactly which of its
 * series (or points) the backend refused: it is cut in halves until each
 * refusal stands alone. The halves the backend had already stored are stored
 * again as they were, which Cortex and Prometheus accept as a no-op.
 */
const ISOLATION_REQUESTS = 64;

export class RemoteWriteExporter implements Exporter {
  readonly name = 'remote-write';
  readonly signals: readonly Signal[] = ['metrics'];
  private readonly intake: MetricsIntake;
  private readonly queue: SeriesQueue;
  private readonly written: StaleSeriesMemory;
  /** Points handed to the flush under way and not yet delivered, rejected or put back. */
  private inFlight: Tally = noPoints();
  /** Bumped when SHUTDOWN gives up on the flush under way: its late outcome is then ignored. */
  private generation = 0;
  /** From SHUTDOWN (or the final flush's deadline) on, undelivered points are reported as dropped. */
  private closing = false;
  /** Samples per request while the backend's ingestion rate limit bites (the rate it names). */
  private rateLimitedSamples: number | undefined;
  /** The last flush left samples queued because of the ingestion rate limit (what SHUTDOWN then drops is `rate_limited`). */
  private heldByRateLimit = false;
  private readonly writer = new WireWriter();
  private readonly labelBlocks = new LabelBlockCache();
  private readonly sender: RemoteWriteSender;
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly health: BackendHealth;
  private readonly rounds: SerialFlush;
  private readonly counters: Omit<RemoteWriteCounters, 'pointsReceived'> = {
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
    this.log = (deps.log ?? createLogger()).child(this.name);
    this.intake = new MetricsIntake(options.translate, this.log);
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
    this.health = deps.health ?? new BackendHealth();
    this.queue = new SeriesQueue(options.maxQueuedSamples, options.maxQueuedBytes);
    this.written = new StaleSeriesMemory(options.maxStaleSeries);
    this.sender = new RemoteWriteSender(options, this.retry, deps.env ?? process.env, deps.extraHeaders);
    this.rounds = new SerialFlush(
      this.health,
      (deadlineMs, final) => this.sendPending(deadlineMs, final ? undefined : this.health.attemptsAllowed()),
      () => this.queue.size > 0,
    );
  }

  /**
   * A snapshot of the exporter's counters, translation drops included. Once
   * SHUTDOWN has begun (or the final flush's deadline has passed), what is
   * still undelivered shows as dropped with reason `shutdown`: the extension
   * may exit at any moment then, and nothing it still holds will be sent.
   */
  counterRows(): ExporterCounterRow[] {
    const s = this.stats();
    return [
      {
        exporter: this.name,
        signal: 'metrics',
        unit: 'samples',
        exported: s.samplesSent,
        retried: s.requestsRetried,
        retriedUnit: 'requests',
        dropped: s.samplesDropped,
      },
    ];
  }

  stats(): RemoteWriteCounters {
    const samplesDropped = this.intake.withTranslationDrops(this.counters.samplesDropped);
    let staleMarkersDropped = this.counters.staleMarkersDropped;
    const closing = this.closing || this.rounds.finalDeadlinePassed();
    if (closing) {
      const left = this.undelivered();
      const reason = this.heldByRateLimit ? 'rate_limited' : 'shutdown';
      const certain = left.samples - left.unconfirmed;
      if (certain > 0) samplesDropped[reason] = (samplesDropped[reason] ?? 0) + certain;
      if (left.unconfirmed > 0) samplesDropped.unconfirmed = (samplesDropped.unconfirmed ?? 0) + left.unconfirmed;
      staleMarkersDropped += left.markers;
    }
    return {
      ...this.counters,
      pointsReceived: this.intake.pointsReceived,
      samplesDropped,
      staleMarkersDropped,
      labelValuesShortened: this.intake.translator.labelValuesShortened,
    };
  }

  private undelivered(): Tally {
    const queued = this.queue.counts();
    return {
      samples: queued.samples + this.inFlight.samples,
      markers: queued.markers + this.inFlight.markers,
      unconfirmed: queued.unconfirmed + this.inFlight.unconfirmed,
    };
  }

  enqueue(payload: OtlpPayload): void {
    const samples = this.intake.take(payload, (points, message) => this.drop('undecodable', points, message));
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
    if (this.queue.size < this.options.maxSamples * SEND_SHARDS || this.health.coolingDown()) return;
    this.rounds.flush(Date.now() + this.options.timeoutMs).then(
      // What arrived meanwhile may be a full round again.
      () => this.sendWhenFull(),
      (error) => this.log.once('send-when-full', 'warn', `sending a full queue failed: ${String(error)}`),
    );
  }

  /** Bounds the series remembered for staleness markers; the least recently written are forgotten, counted. */
  private forgetBeyondBound(): void {
    const forgotten = this.written.forgetBeyondBound();
    if (forgotten === 0) return;
    this.counters.seriesForgotten += forgotten;
    this.log.once(
      'series-forgotten',
      'warn',
      `more than ${this.options.maxStaleSeries} series (OBSERVED_REMOTE_WRITE_STALE_SERIES) or ${WRITTEN_SERIES_MAX_BYTES} bytes of labels written; the least recently written are forgotten and get no staleness marker at SHUTDOWN (counted)`,
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
    for (const marker of this.written.staleMarkers(Date.now())) this.add(marker, true);
    await this.rounds.flush(deadlineMs, { final: true });
    this.abandon();
  }

  /** The end of SHUTDOWN: whatever is queued or still unanswered on the wire is counted as dropped. */
  private abandon(): void {
    const left = this.undelivered();
    this.generation++;
    this.queue.clear();
    this.inFlight = noPoints();
    this.counters.staleMarkersDropped += left.markers;
    this.drop('unconfirmed', left.unconfirmed, `samples ${UNCONFIRMED} were not sent again by the end of SHUTDOWN`);
    const certain = left.samples - left.unconfirmed;
    if (this.heldByRateLimit) {
      this.drop(
        'rate_limited',
        certain,
        `samples held back by ${this.options.url.host}'s ingestion rate limit were not delivered by the end of SHUTDOWN; raise the workspace's ingestion rate and burst quotas`,
      );
    } else {
      this.drop('shutdown', certain, 'samples not delivered by the end of SHUTDOWN (queued or unanswered)');
    }
    if (left.markers > 0) {
      this.log.once(
        'stale-dropped',
        'warn',
        `${left.markers} staleness marker(s) not delivered by the end of SHUTDOWN`,
      );
    }
  }

  private add(sample: SeriesSample, marker = false): void {
    if (!this.written.has(sample.key) && !this.labelsFit(sample)) return;
    const admission = this.written.admit(sample);
    if (admission === 'repeat') return;
    if (admission !== 'accepted') {
      this.drop(admission, 1, `a sample of ${sample.family.name} is not newer than the last one of its series`);
      return;
    }
    this.queue.add(sample, marker);
    if (!marker) this.counters.samplesQueued++;
  }

  /**
   * Whether a new series' labels stay within OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES
   * (AMP and Cortex refuse a series whose labels add up to more, counted as
   * Cortex counts them); if not, its samples are dropped and counted here.
   */
  private labelsFit(sample: SeriesSample): boolean {
    const bytes = labelsWireBytes(sample.labels);
    if (bytes <= this.options.maxLabelsBytes) return true;
    this.drop(
      'labels_too_large',
      1,
      `a series of ${sample.family.name} has ${bytes} bytes of labels, more than ${this.options.maxLabelsBytes} (OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES); dropped`,
    );
    return false;
  }

  /** Bounded queue (samples and bytes): beyond either limit the oldest series' samples go first. */
  private trim(dropped: Tally = this.queue.trim()): void {
    this.counters.staleMarkersDropped += dropped.markers;
    const { maxQueuedSamples, maxQueuedBytes } = this.options;
    const bound = `queue over ${maxQueuedSamples} samples (OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES) or ${maxQueuedBytes} bytes (OBSERVED_REMOTE_WRITE_QUEUE_BYTES)`;
    this.drop('queue_full', dropped.samples - dropped.unconfirmed, `${bound}; oldest dropped`);
    this.drop(
      'unconfirmed',
      dropped.unconfirmed,
      `${bound}: samples ${UNCONFIRMED} left it before they could be sent again`,
    );
  }

  private drop(reason: RemoteWriteDropReason, count: number, message: string): void {
    if (count <= 0) return;
    this.counters.samplesDropped[reason] = (this.counters.samplesDropped[reason] ?? 0) + count;
    this.log.once(
      `${reason}:${message}`,
      'warn',
      `dropped ${count} sample(s), ${reason}: ${message} (further drops of this kind are only counted)`,
    );
  }

  private async sendPending(deadlineMs: number, maxAttempts: number | undefined): Promise<void> {
    const generation = this.generation;
    const { series, counts } = this.queue.takeAll();
    this.inFlight = counts;
    // Requests are built before any is sent: the proto writer is shared.
    const shardCount = Math.min(SEND_SHARDS, Math.ceil(this.inFlight.samples / this.requestSamples()));
    const shards = shardBySeries(series.values(), Math.max(1, shardCount)).map((s) => this.buildRequests(s));
    const leftover = await Promise.all(
      shards.map((requests) => this.sendShard(requests, generation, deadlineMs, maxAttempts)),
    );
    // SHUTDOWN gave up on this flush and counted its points as dropped; the process is about to exit.
    if (generation !== this.generation) return;
    this.inFlight = noPoints();
    const undelivered = leftover.flat();
    if (undelivered.length > 0) this.trim(this.queue.requeue(undelivered.flatMap((b) => b.series)));
  }

  /**
   * Sends one shard's requests one after another (a series always falls in the
   * same shard, so its samples leave in order); returns what was not sent.
   * A refused request of several series or points is cut in halves and sent
   * again until each refusal stands alone (see ISOLATION_REQUESTS); a request
   * larger than the ingestion rate the backend names is cut to that size.
   */
  private async sendShard(
    requests: Batch[],
    generation: number,
    deadlineMs: number,
    maxAttempts: number | undefined,
  ): Promise<Batch[]> {
    const work = requests.slice();
    let isolationLeft = ISOLATION_REQUESTS * requests.length;
    while (work.length > 0) {
      const request = work[0];
      const result = await this.sender.send(
        request.body,
        deadlineMs,
        maxAttempts,
        () => {
          this.counters.requestsRetried++;
        },
        retryingOn((status, body) => this.retryUnchanged(request, status, body)),
      );
      if (generation !== this.generation) return [];
      if (result.outcome === 'deferred') {
        if (result.unanswered) this.markUnconfirmed(request);
        this.health.failed(result.notBeforeMs);
        this.heldByRateLimit = /ingestion rate limit/i.test(result.reason);
        const left = work.reduce((n, r) => n + r.samples, 0);
        this.log.once(
          `deferred:${result.reason}`,
          'warn',
          `${left} sample(s) kept for the next flush: ${result.reason}`,
        );
        return work;
      }
      work.shift();
      this.health.succeeded();
      if (result.outcome === 'delivered') {
        this.delivered(request);
        continue;
      }
      const answer = classifyAnswer(result.status, result.message);
      const detail = `HTTP ${result.status} from ${this.options.url.host}: ${result.message.split('\n')[0]}`;
      if (answer.kind === 'rate_limited') {
        // Larger than the rate the backend names: it cannot pass whole. Smaller requests from now on.
        this.rateLimitedSamples = Math.max(1, Math.floor(answer.limit ?? request.samples / 2));
        this.log.once(
          'rate-limited',
          'warn',
          `${detail}; requests are cut to at most ${this.rateLimitedSamples} samples from now on, samples wait in the queue meanwhile (OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES) and what is not delivered by SHUTDOWN is dropped as rate_limited; raise the workspace's ingestion rate and burst quotas`,
        );
        work.unshift(...this.buildRequests(request.series));
        continue;
      }
      // Only the answers Cortex gives to a partial refusal (400; AMP's 429 for the series limit) can hide stored
      // series; a 401, 403 or 413 refuses the whole request, and the parts would fare no better.
      const partial = result.status === 400 || result.status === 429;
      const parts = partial && isolationLeft > 0 ? this.halves(request) : [];
      if (parts.length > 0) {
        isolationLeft -= parts.length;
        work.unshift(...parts);
        continue;
      }
      this.refused(request, answer.kind === 'refused' ? answer.reason : 'rejected', detail);
    }
    return [];
  }

  /** Whether the transport sends this request again as it is: 5xx, or a 429 for a rate it fits in. */
  private retryUnchanged(request: Batch, status: number, body: string): boolean {
    const answer = classifyAnswer(status, body);
    if (answer.kind === 'retry') return true;
    return answer.kind === 'rate_limited' && (answer.limit === undefined || request.samples <= answer.limit);
  }

  /**
   * A request that got no answer: the backend may have stored its samples. They are sent again; if they
   * cannot be (the queue overflows, SHUTDOWN ends), they are counted as `unconfirmed`, not as lost.
   */
  private markUnconfirmed(request: Batch): void {
    for (const s of request.series) {
      s.points = s.points.map((p) => {
        if (p.marker || p.unconfirmed) return p;
        this.inFlight.unconfirmed++;
        return { ...p, unconfirmed: true };
      });
    }
  }

  private delivered(request: Batch): void {
    const samples = request.samples - request.markers;
    this.inFlight.samples -= samples;
    this.inFlight.markers -= request.markers;
    this.inFlight.unconfirmed -= request.unconfirmed;
    this.counters.requestsSent++;
    this.counters.samplesSent += samples;
    this.counters.staleMarkersSent += request.markers;
    this.heldByRateLimit = false;
  }

  /** The backend refused every point of the request: counted by its reason; its series get no staleness marker. */
  private refused(request: Batch, reason: RefusalReason, detail: string): void {
    const samples = request.samples - request.markers;
    this.inFlight.samples -= samples;
    this.inFlight.markers -= request.markers;
    this.inFlight.unconfirmed -= request.unconfirmed;
    this.counters.requestsSent++;
    this.counters.staleMarkersDropped += request.markers;
    for (const s of request.series) this.written.refused(s.key);
    this.drop(reason === 'rejected' ? 'rejected' : `rejected_${reason}`, samples, detail);
  }

  /** A refused request in two, by series, or by points when it holds one series; none when it holds one point. */
  private halves(request: Batch): Batch[] {
    const series = request.series;
    if (series.length > 1) {
      const middle = Math.ceil(series.length / 2);
      return [...this.buildRequests(series.slice(0, middle)), ...this.buildRequests(series.slice(middle))];
    }
    const only = series[0];
    if (!only || only.points.length < 2) return [];
    const middle = Math.ceil(only.points.length / 2);
    return [
      ...this.buildRequests([{ ...only, points: only.points.slice(0, middle) }]),
      ...this.buildRequests([{ ...only, points: only.points.slice(middle) }]),
    ];
  }

  /** Cuts the queued series into requests within the sample and byte limits (metadata included). */
  buildRequests(series: Iterable<PendingSeries>): Batch[] {
    const limits = { maxSamples: this.requestSamples(), maxBytes: this.options.maxBytes };
    return cutRequests(series, limits, this.writer, this.labelBlocks);
  }

  /** Samples per request: OBSERVED_REMOTE_WRITE_MAX_SAMPLES, or fewer while the ingestion rate limit bites. */
  private requestSamples(): number {
    return Math.min(this.options.maxSamples, this.rateLimitedSamples ?? Number.POSITIVE_INFINITY);
  }
}
