/**
 * When to flush (OBSERVED_FLUSH). Lambda freezes the environment once the
 * function has answered and every extension waits in /next, so data exported
 * later waits for the next thaw; each strategy trades freshness against the
 * time the extension adds after the function's response:
 *
 * - end-of-invocation: flush at the end of every invocation, before /next.
 * - periodic:<ms>: at the end of an invocation, flush only if <ms> passed since
 *   the last flush.
 * - adaptive (default): predicts when the next invocation comes (the larger of
 *   the last gap between invocations and its moving average). If the oldest
 *   pending data would then be older than OBSERVED_FLUSH_MAX_AGE_MS, it flushes
 *   before /next, as end-of-invocation does; so rare invocations are flushed
 *   every time. While invocations come back to back, it leaves the data and
 *   exports it in the background during the next invocation (started at its
 *   INVOKE, overlapping the function's own work, and awaited before /next),
 *   and during long invocations every half max age.
 *
 * Every flush ends by a deadline: the invocation's deadline, and at most
 * OBSERVED_FLUSH_TIMEOUT_MS after it starts.
 */
import type { FlushConfig } from '../config/index.js';
import { withDeadline } from '../contracts/deadline.js';
import type { Logger } from '../self-telemetry/log.js';
import type { Pipeline } from './pipeline.js';

/** Time kept free before the invocation deadline. */
export const DEADLINE_RESERVE_MS = 20;

const GAP_SMOOTHING = 0.3;

export class FlushScheduler {
  private lastFlushMs: number;
  private lastNextMs: number | undefined;
  private gapAverageMs: number | undefined;
  private lastGapMs: number | undefined;
  private background: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private invocationDeadlineMs = 0;

  constructor(
    private readonly config: FlushConfig,
    private readonly pipeline: Pipeline,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.lastFlushMs = now();
  }

  /** The environment thawed for an invocation with this deadline (epoch ms). */
  onInvoke(deadlineMs: number): void {
    const now = this.now();
    this.invocationDeadlineMs = deadlineMs;
    if (this.lastNextMs !== undefined) {
      const gap = now - this.lastNextMs;
      this.lastGapMs = gap;
      this.gapAverageMs =
        this.gapAverageMs === undefined ? gap : this.gapAverageMs + GAP_SMOOTHING * (gap - this.gapAverageMs);
    }
    if (this.config.strategy.kind !== 'adaptive') return;
    this.startBackground(now, this.config.maxAgeMs / 4);
    this.timer = setInterval(
      () => this.startBackground(this.now(), this.config.maxAgeMs / 2),
      this.config.maxAgeMs / 2,
    );
    // LLRT's timers are numbers, without unref.
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** The invocation's telemetry is complete; resolves when /next may be called. */
  async onInvocationDone(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const deadline = this.flushDeadline();
    if (this.background) {
      await withDeadline(this.background, deadline, this.now);
    }
    const decision = this.shouldFlush();
    if (decision && deadline > this.now()) {
      await this.flush(deadline, decision);
    }
    this.lastNextMs = this.now();
  }

  /** SHUTDOWN: everything out before the deadline. */
  async onShutdown(deadlineMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.background) await withDeadline(this.background, deadlineMs, this.now);
    await this.pipeline.shutdown(deadlineMs);
  }

  /**
   * Whether the end of this invocation will probably be flushed, so the
   * lifecycle should wait for the invocation's telemetry (flushed notice or
   * platform.runtimeDone) before deciding. When it will not (periodic before
   * its interval, adaptive in a busy period), /next can be called at once:
   * the function's data still reaches the receiver while the runtime works,
   * and a function without the notice does not pay the Telemetry API's
   * buffering delay for nothing.
   */
  expectsFlushAtEnd(): boolean {
    return this.shouldFlush(true) !== undefined;
  }

  /** Predicted time until the next invocation, as the adaptive strategy sees it. */
  predictedGapMs(): number {
    if (this.gapAverageMs === undefined || this.lastGapMs === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(this.gapAverageMs, this.lastGapMs);
  }

  private shouldFlush(assumeData = false): string | undefined {
    const now = this.now();
    const strategy = this.config.strategy;
    if (!assumeData && this.pipeline.pendingItems() === 0) return undefined;
    switch (strategy.kind) {
      case 'end-of-invocation':
        return 'invocation';
      case 'periodic':
        return now - this.lastFlushMs >= strategy.intervalMs ? 'periodic' : undefined;
      case 'adaptive': {
        const oldest = this.pipeline.oldestPendingMs() ?? now;
        return now - oldest + this.predictedGapMs() >= this.config.maxAgeMs ? 'invocation' : undefined;
      }
    }
  }

  private flushDeadline(): number {
    const byInvocation = this.invocationDeadlineMs > 0 ? this.invocationDeadlineMs - DEADLINE_RESERVE_MS : Infinity;
    return Math.min(byInvocation, this.now() + this.config.timeoutMs);
  }

  private async flush(deadlineMs: number, trigger: string): Promise<void> {
    this.lastFlushMs = this.now();
    try {
      await this.pipeline.flush(deadlineMs, { trigger });
    } catch (error) {
      this.log.once('flush', 'error', `flush failed: ${String(error)}`);
    }
  }

  private startBackground(now: number, minAgeMs: number): void {
    if (this.background) return;
    const oldest = this.pipeline.oldestPendingMs();
    if (oldest === undefined || now - oldest < minAgeMs) return;
    const deadline = this.flushDeadline();
    if (deadline <= now) return;
    this.background = this.flush(deadline, 'background').finally(() => {
      this.background = undefined;
    });
  }
}
