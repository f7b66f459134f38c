/**
 * The pipeline: receivers and the platform module hand payloads in, the
 * pipeline stages them per signal in bounded buffers, and hands each signal's
 * staged payloads, concatenated into batches (no decoding), to every exporter
 * that takes the signal: at a flush, which then lets the exporters deliver
 * before a deadline, and as soon as a signal's staged data reaches an early
 * hand-off threshold, so that under heavy load the data moves on to the
 * exporters' queues (and exporters that send on their own, such as remote
 * write, can start) instead of overflowing the staging buffer between
 * flushes. Staging and batching mean an exporter sees few, large requests
 * rather than one per SDK export, and the self counters see every item:
 * received, dropped here (buffer full, no exporter for the signal), or handed
 * to exporters, which account for the rest.
 *
 * When a flush happens is the scheduler's business (scheduler.ts).
 */
import type { BufferLimits } from '../config/index.js';
import { withDeadline } from '../contracts/deadline.js';
import type { Exporter } from '../contracts/exporter.js';
import type { OtlpPayload } from '../contracts/payload.js';
import { jsonToProtobuf } from '../otlp/json.js';
import { type KeyValue, SIGNALS, type Signal } from '../otlp/types.js';
import { SignalBuffer } from '../queue/signal-buffer.js';
import type { Logger } from '../self-telemetry/log.js';
import type { SelfMetrics, Source } from '../self-telemetry/metrics.js';

/** Largest batch handed to exporters at once (concatenated requests of one signal). */
export const BATCH_MAX_BYTES = 1024 * 1024;

/**
 * A signal's staged data is handed to the exporters without waiting for a flush once it reaches these bytes,
 * or this share of OBSERVED_BUFFER_MAX_ITEMS. A quarter keeps one hand-off small against the exporters' own
 * queues (a remote write queue of 50,000 samples holds about 8,600 histogram-heavy data points), and leaves
 * the buffer room for what arrives while a hand-off is being taken in.
 */
export const EARLY_HANDOFF_BYTES = BATCH_MAX_BYTES / 4;
export const EARLY_HANDOFF_ITEMS_SHARE = 0.25;

/** Self metrics go out with a flush at most this often (and always at SHUTDOWN). */
export const SELF_METRICS_INTERVAL_MS = 60_000;

export interface PipelineOptions {
  readonly exporters: readonly Exporter[];
  readonly limits: BufferLimits;
  readonly self: SelfMetrics;
  readonly log: Logger;
  /** Applied to the function's payloads before staging (Lambda resource enrichment). */
  readonly enrich?: (bytes: Uint8Array) => Uint8Array;
  /** Resource of the self metrics; undefined turns them off. */
  readonly selfResource?: () => KeyValue[];
  readonly now?: () => number;
}

export interface FlushOptions {
  /** Why: "invocation", "periodic", "background", "shutdown"; a label of the flush duration metric. */
  readonly trigger: string;
  /** The SHUTDOWN flush: exporters ignore back-off cool-downs. */
  readonly final?: boolean;
}

export class Pipeline {
  private readonly staged: Record<Signal, SignalBuffer>;
  private readonly now: () => number;
  /** Since when exporters hold undelivered data (undefined: they hold nothing we know of). */
  private exporterPendingSince: number | undefined;
  private lastSelfEmitMs: number;
  private readonly beforeFlushHooks: ((final: boolean) => void)[] = [];
  private readonly earlyHandOffItems: number;
  /** Set at SHUTDOWN: data arriving late stays staged (and is counted at exit) rather than reaching closed exporters. */
  private closing = false;

  constructor(private readonly options: PipelineOptions) {
    this.now = options.now ?? Date.now;
    this.lastSelfEmitMs = this.now();
    this.earlyHandOffItems = Math.max(1, Math.floor(options.limits.maxItems * EARLY_HANDOFF_ITEMS_SHARE));
    const make = (signal: Signal) =>
      new SignalBuffer(signal, options.limits, (items) => {
        options.self.noteDropped(signal, 'buffer_full', items);
        options.log.once(
          `buffer-full-${signal}`,
          'warn',
          `${signal} buffer full (OBSERVED_BUFFER_MAX_BYTES=${options.limits.maxBytes}, OBSERVED_BUFFER_MAX_ITEMS=${options.limits.maxItems}); the oldest data is dropped and counted (logged once)`,
        );
      });
    this.staged = { traces: make('traces'), metrics: make('metrics'), logs: make('logs') };
  }

  get exporters(): readonly Exporter[] {
    return this.options.exporters;
  }

  /** Runs before every flush (`final` at SHUTDOWN): producers such as the platform module emit what is due. */
  onBeforeFlush(hook: (final: boolean) => void): void {
    this.beforeFlushHooks.push(hook);
  }

  /** Takes a payload in; never throws. */
  accept(payload: OtlpPayload, source: Source = 'function'): void {
    try {
      this.options.self.noteReceived(payload.signal, source, payload.items);
      let bytes = payload.bytes;
      if (source === 'function' && this.options.enrich) {
        try {
          bytes = this.options.enrich(bytes);
        } catch (error) {
          // The receiver validated the bytes; keep them as they are rather than lose them.
          this.options.log.once('enrich', 'warn', `resource enrichment failed, data kept unenriched: ${String(error)}`);
        }
      }
      const buffer = this.staged[payload.signal];
      buffer.push({ signal: payload.signal, bytes, items: payload.items }, this.now());
      if (!this.closing && (buffer.bytes >= EARLY_HANDOFF_BYTES || buffer.items >= this.earlyHandOffItems)) {
        while (this.handOffBatch(payload.signal)) {}
      }
    } catch (error) {
      this.options.log.once('accept', 'error', `could not stage a payload: ${String(error)}`);
    }
  }

  /** Items staged here or held by exporters. */
  pendingItems(): number {
    let n = 0;
    for (const signal of SIGNALS) n += this.staged[signal].items;
    for (const e of this.options.exporters) n += safeNumber(() => e.pendingItems());
    return n;
  }

  stagedItems(): number {
    return SIGNALS.reduce((n, s) => n + this.staged[s].items, 0);
  }

  /** Epoch ms of the oldest data not yet delivered, as far as known. */
  oldestPendingMs(): number | undefined {
    // Exporters that send on their own (remote write with a full queue) may have delivered everything since.
    if (this.exporterPendingSince !== undefined && this.exportersIdle()) this.exporterPendingSince = undefined;
    let oldest = this.exporterPendingSince;
    for (const signal of SIGNALS) {
      const t = this.staged[signal].oldestMs();
      if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t;
    }
    return oldest;
  }

  /**
   * Hands staged data to the exporters, batched per signal. Between batches it yields to the event loop, so
   * exporters that send on their own can start before the next batch comes and the receivers keep answering.
   */
  async handOff(): Promise<void> {
    for (const signal of SIGNALS) {
      // Bounded by what is staged now: every batch takes at least one payload.
      for (let budget = this.staged[signal].length; budget > 0 && this.handOffBatch(signal); budget--) {
        await yieldToEventLoop();
      }
    }
  }

  /** Hands the oldest staged batch of a signal to its exporters; false when nothing was staged. */
  private handOffBatch(signal: Signal): boolean {
    const batch = this.staged[signal].takeBatch(BATCH_MAX_BYTES);
    if (!batch) return false;
    const takers = this.options.exporters.filter((e) => e.signals.includes(signal));
    if (takers.length === 0) {
      this.options.self.noteDropped(signal, 'no_exporter', batch.items);
      return true;
    }
    this.exporterPendingSince ??= batch.receivedAtMs;
    const payload: OtlpPayload = { signal, bytes: batch.bytes, items: batch.items };
    for (const exporter of takers) {
      try {
        exporter.enqueue(payload);
      } catch (error) {
        this.options.log.once(
          `enqueue-${exporter.name}`,
          'error',
          `${exporter.name}: enqueue failed: ${String(error)}`,
        );
      }
    }
    return true;
  }

  /** Hands over, then lets every exporter deliver until `deadlineMs`; never rejects, never runs past the deadline. */
  async flush(deadlineMs: number, options: FlushOptions): Promise<void> {
    const started = this.now();
    this.runBeforeFlush(options.final ?? false);
    if (options.final || started - this.lastSelfEmitMs >= SELF_METRICS_INTERVAL_MS) this.emitSelfMetrics();
    await this.handOff();
    await this.exportersFlush(deadlineMs, options.final ?? false);
    const elapsed = this.now() - started;
    this.options.self.noteFlush(options.trigger, elapsed / 1000);
    if (this.options.log.debugEnabled) {
      this.options.log.debug(
        `flush (${options.trigger}) took ${elapsed} ms; ${this.pendingItems()} item(s) still pending`,
      );
    }
  }

  /** SHUTDOWN: flush everything, then the self metrics that describe it, then each exporter's last call. */
  async shutdown(deadlineMs: number): Promise<void> {
    this.closing = true;
    this.runBeforeFlush(true);
    await this.handOff();
    await this.exportersFlush(deadlineMs, true);
    this.emitSelfMetrics();
    await this.handOff();
    await this.exportersFlush(deadlineMs, true);
    await withDeadline(
      Promise.all(this.options.exporters.map((e) => settle(() => e.shutdown(deadlineMs)))),
      deadlineMs,
      this.now,
    );
  }

  /** At exit: what is still staged (arrived after the final flush) is counted as dropped. */
  abandonStaged(reason = 'shutdown'): void {
    for (const signal of SIGNALS) this.options.self.noteDropped(signal, reason, this.staged[signal].clear());
  }

  private runBeforeFlush(final: boolean): void {
    for (const hook of this.beforeFlushHooks) {
      try {
        hook(final);
      } catch (error) {
        this.options.log.once('before-flush', 'error', `a producer failed before a flush: ${String(error)}`);
      }
    }
  }

  private emitSelfMetrics(): void {
    if (!this.options.selfResource) return;
    this.lastSelfEmitMs = this.now();
    try {
      const { request, points } = this.options.self.toRequest(this.options.selfResource(), this.now());
      if (points === 0) return;
      this.accept({ signal: 'metrics', bytes: jsonToProtobuf('metrics', request).bytes, items: points }, 'self');
    } catch (error) {
      this.options.log.once('self-metrics', 'error', `could not build the self metrics: ${String(error)}`);
    }
  }

  private async exportersFlush(deadlineMs: number, final: boolean): Promise<void> {
    await withDeadline(
      Promise.all(
        this.options.exporters.map((e) =>
          settle(
            () => e.flush(deadlineMs, { final }),
            (error) => this.options.log.once(`flush-${e.name}`, 'error', `${e.name}: flush failed: ${String(error)}`),
          ),
        ),
      ),
      deadlineMs,
      this.now,
    );
    if (this.exportersIdle()) this.exporterPendingSince = undefined;
  }

  private exportersIdle(): boolean {
    return this.options.exporters.every((e) => safeNumber(() => e.pendingItems()) === 0);
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function safeNumber(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}

async function settle(run: () => Promise<unknown>, onError: (error: unknown) => void = () => {}): Promise<void> {
  try {
    await run();
  } catch (error) {
    onError(error);
  }
}
