/**
 * The flush entry every exporter shares: one send round at a time
 * (a flush that finds one under way waits for it within its own deadline and, if it is still
 * running, leaves the rest to it, which keeps each series' samples in order), a failing backend's
 * cool-down honoured except at SHUTDOWN, and the earliest SHUTDOWN deadline remembered: past it,
 * what is still undelivered counts as dropped.
 */
import { withDeadline } from '../contracts/deadline.js';
import type { BackendHealth } from './transport/retrying.js';

/** One send round; `final` at SHUTDOWN, when a failing backend's attempt budget does not apply. */
export type SendRound = (deadlineMs: number, final: boolean) => Promise<void>;

export class SerialFlush {
  private running: Promise<void> | undefined;
  private finalDeadlineMs: number | undefined;

  constructor(
    /** The backend's health; an exporter with one backend per signal (OTLP) checks each in its round. */
    private readonly health: Pick<BackendHealth, 'coolingDown'>,
    private readonly sendRound: SendRound,
    /** Whether there is anything to send; checked once no other round is under way. */
    private readonly hasWork: () => boolean = () => true,
  ) {}

  /** A send round is under way. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** The pipeline's SHUTDOWN flush has begun. */
  get final(): boolean {
    return this.finalDeadlineMs !== undefined;
  }

  /** The SHUTDOWN flush's deadline has passed. */
  finalDeadlinePassed(now = Date.now()): boolean {
    return this.finalDeadlineMs !== undefined && now >= this.finalDeadlineMs;
  }

  /** `final` comes from the pipeline's SHUTDOWN flush: it ignores the cool-down of a failing backend. */
  async flush(deadlineMs: number, options: { final?: boolean } = {}): Promise<void> {
    const final = options.final === true;
    if (final) this.finalDeadlineMs = Math.min(this.finalDeadlineMs ?? deadlineMs, deadlineMs);
    if (this.running) {
      await withDeadline(this.running, deadlineMs);
      if (this.busy) return;
    }
    if (!this.hasWork()) return;
    if (!final && this.health.coolingDown()) return;
    const run = this.sendRound(deadlineMs, final).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    await run;
  }
}
