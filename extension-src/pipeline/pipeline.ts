/**
 * The pipeline: receivers and the platform module hand payloads in, the
 * pipeline stages them per signal in bounded buffers, and a flush hands each
 * signal's staged payloads, concatenated into batches (no decoding), to every
 * exporter that takes the signal, then lets the exporters deliver before a
 * deadline. Staging and batching mean an exporter sees one request per signal
 * per flush rather than one per SDK export, and the self counters see every
 * item: received, dropped here (buffer full, no exporter for the signal), or
 * handed to exporters, which account for the rest.
 *
 * When a flush happens is the scheduler's business (scheduler.ts).
 */
import type { BufferLimits } from '../config/index.js';
import type { Exporter, OtlpPayload } from '../exporters/types.js';
import { jsonToProtobuf } from '../otlp/json.js';
import { type KeyValue, SIGNALS, type Signal } from '../otlp/types.js';
import type { Logger } from '../self/log.js';
import type { SelfMetrics, Source } from '../self/metrics.js';
import { SignalBuffer } from './buffer.js';

/** Largest batch handed to exporters at once (concatenated requests of one signal). */
export const BATCH_MAX_BYTES = 1024 * 1024;

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

type FinalFlush = (deadlineMs: number, options: { final?: boolean }) => Promise<void>;

export class Pipeline {
  private readonly staged: Record<Signal, SignalBuffer>;
  private readonly now: () => number;
  /** Since when exporters hold undelivered data (undefined: they hold nothing we know of). */
  private exporterPendingSince: number | undefined;
  private lastSelfEmitMs: number;
  private readonly beforeFlushHooks: ((final: boolean) => void)[] = [];

  constructor(private readonly options: PipelineOptions) {
    this.now = options.now ?? Date.now;
    this.lastSelfEmitMs = this.now();
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
      this.staged[payload.signal].push({ signal: payload.signal, bytes, items: payload.items }, this.now());
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
    let oldest = this.exporterPendingSince;
    for (const signal of SIGNALS) {
      const t = this.staged[signal].oldestMs();
      if (t !== undefined && (oldest === undefined || t < oldest)) oldest = t;
    }
    return oldest;
  }

  /** Hands staged data to the exporters, batched per signal. */
  handOff(): void {
    for (const signal of SIGNALS) {
      const takers = this.options.exporters.filter((e) => e.signals.includes(signal));
      for (;;) {
        const batch = this.staged[signal].takeBatch(BATCH_MAX_BYTES);
        if (!batch) break;
        if (takers.length === 0) {
          this.options.self.noteDropped(signal, 'no_exporter', batch.items);
          continue;
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
      }
    }
  }

  /** Hands over, then lets every exporter deliver until `deadlineMs`; never rejects, never runs past the deadline. */
  async flush(deadlineMs: number, options: FlushOptions): Promise<void> {
    const started = this.now();
    this.runBeforeFlush(options.final ?? false);
    if (options.final || started - this.lastSelfEmitMs >= SELF_METRICS_INTERVAL_MS) this.emitSelfMetrics();
    this.handOff();
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
    this.runBeforeFlush(true);
    this.handOff();
    await this.exportersFlush(deadlineMs, true);
    this.emitSelfMetrics();
    this.handOff();
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
            () => (e.flush as FinalFlush).call(e, deadlineMs, { final }),
            (error) => this.options.log.once(`flush-${e.name}`, 'error', `${e.name}: flush failed: ${String(error)}`),
          ),
        ),
      ),
      deadlineMs,
      this.now,
    );
    if (this.options.exporters.every((e) => safeNumber(() => e.pendingItems()) === 0)) {
      this.exporterPendingSince = undefined;
    }
  }
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

/** Waits for `work` but not past `deadlineMs`. */
export async function withDeadline(work: Promise<unknown>, deadlineMs: number, now = Date.now): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadlineMs - now()));
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
