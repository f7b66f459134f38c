/**
 * The Pushgateway exporter. The Pushgateway keeps what was last pushed per
 * grouping key, and a PUT replaces the whole group, so this exporter keeps the
 * current value of every series (running totals included, see the
 * translator) and pushes the full state of each changed group at a flush.
 *
 * Grouping key: `job` and `instance` from the resource (service.namespace /
 * service.name and service.instance.id or faas.instance), in the URL path
 * `/metrics/job/<job>/instance/<instance>`; values with a `/` (or anything
 * but plain characters) use the Pushgateway's base64url form (`job@base64`).
 *
 * The series kept are bounded (OBSERVED_PUSHGATEWAY_MAX_SERIES, and label
 * values by the translator's limits): beyond it the least recently updated
 * series leave their group at the next push, counted in `seriesForgotten`.
 *
 * Samples taken in count as pending until a push that carries them is
 * answered. From SHUTDOWN on, what is not yet pushed is reported as dropped
 * (reason `shutdown`), so the totals logged at exit add up even when the
 * extension exits with a push unanswered.
 */

import type { Exporter, ExporterCounterRow } from '../../contracts/exporter.js';
import type { OtlpPayload } from '../../contracts/payload.js';
import type { Signal } from '../../otlp/types.js';
import { createLogger, type Logger } from '../../self-telemetry/log.js';
import type { SeriesSample } from '../../translate/series.js';
import type { OneBackendDeps } from '../deps.js';
import { MetricsIntake } from '../metrics-payload.js';
import { SerialFlush } from '../serial-flush.js';
import { REMOTE_WRITE_STATUS } from '../transport/classify.js';
import { BackendHealth, DEFAULT_RETRY, type RetryPolicy, sendWithRetry } from '../transport/retrying.js';
import { userAgent } from '../transport/send.js';
import type { PushgatewayOptions } from './config.js';
import { renderText } from './text-format.js';

const GROUPING_LABELS: ReadonlySet<string> = new Set(['job', 'instance']);
const DEFAULT_JOB = 'observed-lambda';

interface Group {
  readonly job: string;
  readonly instance: string;
  readonly series: Map<string, SeriesSample>;
  /** Samples taken in since the last successful push. */
  unpushed: number;
}

export interface PushgatewayCounters {
  pointsReceived: number;
  pushes: number;
  pushesRetried: number;
  deletes: number;
  /** Series that left their group beyond OBSERVED_PUSHGATEWAY_MAX_SERIES. */
  seriesForgotten: number;
  /** Samples not delivered, by reason. */
  samplesDropped: Record<string, number>;
}

export type PushgatewayDeps = OneBackendDeps;

/** One grouping key segment: `/name/value`, or `/name@base64/<base64url>` when the value needs it. */
export function groupingSegment(name: string, value: string): string {
  if (value !== '' && /^[A-Za-z0-9_.:-]+$/.test(value)) return `/${name}/${value}`;
  // An empty value is written as "=" (the base64 of nothing, padded), as the Pushgateway documents.
  const encoded = value === '' ? '=' : Buffer.from(value, 'utf8').toString('base64url');
  return `/${name}@base64/${encoded}`;
}

export class PushgatewayExporter implements Exporter {
  readonly name = 'pushgateway';
  readonly signals: readonly Signal[] = ['metrics'];
  private readonly intake: MetricsIntake;
  private readonly groups = new Map<string, Group>();
  /** Every kept series' group, least recently updated first (a Map keeps insertion order). */
  private readonly recency = new Map<string, Group>();
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  /** Bumped when SHUTDOWN gives up on the push round under way: its late outcome is then ignored. */
  private generation = 0;
  /** From SHUTDOWN (or the final flush's deadline) on, unpushed samples are reported as dropped. */
  private closing = false;
  private readonly health: BackendHealth;
  private readonly rounds: SerialFlush;
  private readonly counters: Omit<PushgatewayCounters, 'pointsReceived'> = {
    pushes: 0,
    pushesRetried: 0,
    deletes: 0,
    seriesForgotten: 0,
    samplesDropped: {},
  };

  private readonly extraHeaders: () => Readonly<Record<string, string>>;

  constructor(
    readonly options: PushgatewayOptions,
    deps: PushgatewayDeps = {},
  ) {
    this.log = (deps.log ?? createLogger()).child(this.name);
    this.intake = new MetricsIntake({ ...options.translate, nativeHistograms: false }, this.log);
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
    this.health = deps.health ?? new BackendHealth();
    this.extraHeaders = deps.extraHeaders ?? (() => ({}));
    this.rounds = new SerialFlush(this.health, (deadlineMs, final) =>
      this.pushChanged(deadlineMs, final ? undefined : this.health.attemptsAllowed()),
    );
  }

  /** The counters; once SHUTDOWN has begun, what is not yet pushed shows as dropped (reason `shutdown`). */
  counterRows(): ExporterCounterRow[] {
    const s = this.stats();
    return [
      {
        exporter: this.name,
        signal: 'metrics',
        unit: 'pushes',
        exported: s.pushes,
        retried: s.pushesRetried,
        dropped: s.samplesDropped,
        droppedUnit: 'samples',
      },
    ];
  }

  stats(): PushgatewayCounters {
    const samplesDropped = this.intake.withTranslationDrops(this.counters.samplesDropped);
    const closing = this.closing || this.rounds.finalDeadlinePassed();
    const left = closing ? this.pendingItems() : 0;
    if (left > 0) samplesDropped.shutdown = (samplesDropped.shutdown ?? 0) + left;
    return { ...this.counters, pointsReceived: this.intake.pointsReceived, samplesDropped };
  }

  enqueue(payload: OtlpPayload): void {
    const samples = this.intake.take(payload, (points, message) => this.drop('undecodable', points, message));
    if (!samples) return;
    for (const sample of samples) this.apply(sample);
    this.forgetBeyondBound();
  }

  /** Least recently updated series leave their group (the next push of the group drops them). */
  private forgetBeyondBound(): void {
    const max = this.options.maxSeries;
    if (this.recency.size <= max) return;
    let forgotten = 0;
    for (const [key, group] of this.recency) {
      if (this.recency.size <= max) break;
      this.recency.delete(key);
      group.series.delete(key);
      forgotten++;
    }
    this.counters.seriesForgotten += forgotten;
    this.log.once(
      'series-forgotten',
      'warn',
      `more than ${max} series (OBSERVED_PUSHGATEWAY_MAX_SERIES); the least recently updated leave their group (counted)`,
    );
  }

  pendingItems(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.unpushed;
    return n;
  }

  private apply(sample: SeriesSample): void {
    let job = DEFAULT_JOB;
    let instance = '';
    for (const l of sample.labels) {
      if (l.name === 'job') job = l.value;
      else if (l.name === 'instance') instance = l.value;
    }
    const groupKey = `${job}\u0000${instance}`;
    let group = this.groups.get(groupKey);
    if (!group) {
      group = { job, instance, series: new Map(), unpushed: 0 };
      this.groups.set(groupKey, group);
    }
    const previous = group.series.get(sample.key);
    if (previous && previous.timestampMs > sample.timestampMs) return;
    // A staleness marker ends the series: it leaves the group at the next push.
    this.recency.delete(sample.key);
    if (sample.stale) group.series.delete(sample.key);
    else {
      group.series.set(sample.key, sample);
      this.recency.set(sample.key, group);
    }
    group.unpushed++;
  }

  private groupUrl(group: Group): URL {
    const base = this.options.url.href.replace(/\/+$/, '');
    return new URL(`${base}/metrics${groupingSegment('job', group.job)}${groupingSegment('instance', group.instance)}`);
  }

  /** `final` comes from the pipeline's SHUTDOWN flush (see ../serial-flush.ts). */
  flush(deadlineMs: number, options: { final?: boolean } = {}): Promise<void> {
    return this.rounds.flush(deadlineMs, options);
  }

  private async pushChanged(deadlineMs: number, maxAttempts: number | undefined): Promise<void> {
    const generation = this.generation;
    for (const group of this.groups.values()) {
      if (group.unpushed === 0) continue;
      const taken = group.unpushed;
      const body = Buffer.from(renderText(group.series.values(), GROUPING_LABELS), 'utf8');
      const url = this.groupUrl(group);
      const headers = {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'user-agent': userAgent(),
        ...this.extraHeaders(),
      };
      const result = await sendWithRetry(
        { method: 'PUT', url, body, headers: () => headers, timeoutMs: this.options.timeoutMs },
        REMOTE_WRITE_STATUS,
        deadlineMs,
        { ...this.retry, maxAttempts },
        {
          onRetry: () => {
            this.counters.pushesRetried++;
          },
        },
      );
      // SHUTDOWN gave up on this round and counted its samples as dropped; the process is about to exit.
      if (generation !== this.generation) return;
      if (result.outcome === 'deferred') this.health.failed(result.notBeforeMs);
      else this.health.succeeded();
      if (result.outcome === 'delivered') {
        this.counters.pushes++;
        group.unpushed -= taken;
      } else if (result.outcome === 'rejected') {
        this.counters.pushes++;
        group.unpushed -= taken;
        this.drop('rejected', taken, `HTTP ${result.status} from ${url.host}: ${result.message.split('\n')[0]}`);
      } else {
        this.log.once(
          `deferred:${result.reason}`,
          'warn',
          `push of ${group.job}/${group.instance} kept for the next flush: ${result.reason}`,
        );
        return;
      }
    }
  }

  async shutdown(deadlineMs: number): Promise<void> {
    this.closing = true;
    await this.rounds.flush(deadlineMs, { final: true });
    this.abandon();
    if (!this.options.deleteOnShutdown) return;
    for (const group of this.groups.values()) {
      const url = this.groupUrl(group);
      const headers = { 'user-agent': userAgent(), ...this.extraHeaders() };
      const result = await sendWithRetry(
        { method: 'DELETE', url, headers: () => headers, timeoutMs: this.options.timeoutMs },
        REMOTE_WRITE_STATUS,
        deadlineMs,
        this.retry,
      );
      if (result.outcome === 'delivered') this.counters.deletes++;
      else
        this.log.once(
          `delete:${url.href}`,
          'warn',
          `could not delete group ${url.pathname}: ${'reason' in result ? result.reason : `HTTP ${result.status}`}`,
        );
    }
  }

  /** After the final push round: samples not yet pushed (queued or unanswered) are counted as dropped. */
  private abandon(): void {
    const left = this.pendingItems();
    this.generation++;
    for (const group of this.groups.values()) group.unpushed = 0;
    if (left > 0) this.drop('shutdown', left, 'samples not pushed by the end of SHUTDOWN (unsent or unanswered)');
  }

  private drop(reason: string, count: number, message: string): void {
    this.counters.samplesDropped[reason] = (this.counters.samplesDropped[reason] ?? 0) + count;
    this.log.once(
      `${reason}:${message}`,
      'warn',
      `dropped ${count} sample(s), ${reason}: ${message} (further drops of this kind are only counted)`,
    );
  }
}
