/**
 * The extension's life: after registration, call /next; on INVOKE wait until
 * the invocation's telemetry is complete (the function's flushed notice or
 * platform.runtimeDone, by a deadline derived from the invocation's), let the
 * flush scheduler flush, then call /next again; on SHUTDOWN flush everything
 * and exit 0 before Lambda's deadline.
 *
 * Without platform events (OBSERVED_TELEMETRY_TYPES without "platform") only
 * the flushed notice says a run is over, and nothing says the runtime
 * crashed: Lambda then resets the environment with a SHUTDOWN that only a
 * /next can receive, within a deadline of about 2 s. So that wait is short
 * (NO_PLATFORM_WAIT_MS, and never past the invocation deadline): a longer run
 * goes on while the extension is in /next, and its data leaves with the next
 * flush. The first invocation is waited for that long too, to flush what it
 * sent; if no notice comes then, the function has no wrapper and later
 * invocations are not waited for.
 *
 * Nothing here may make the function fail: errors of a step are logged and
 * the loop goes on. Only an Extensions API that stops answering /next is
 * fatal (the environment is broken then): the exit is reported through
 * /extension/exit/error.
 */
import type { FlushScheduler } from '../pipeline/scheduler.js';
import type { Logger } from '../self-telemetry/log.js';
import type { ExtensionsApiClient, InvokeEvent, LifecycleEvent } from './extensions-api.js';
import type { InvocationTracker } from './invocations.js';

/** What the platform telemetry module gets from the lifecycle. */
export interface PlatformHandler {
  /** The INVOKE event, before the function's telemetry arrives. */
  noteInvoke(event: InvokeEvent): void;
  /** One Telemetry API delivery (the parsed JSON array). */
  onTelemetryEvents(events: unknown[]): void;
  /**
   * At SHUTDOWN, before the final flush: resolves once the Telemetry API events
   * still on their way have arrived (the last invocation's platform.report, a
   * timed-out invocation's runtimeDone), or at the deadline.
   */
  settle?(deadlineMs: number): Promise<void>;
}

export interface ControllerOptions {
  readonly api: Pick<ExtensionsApiClient, 'next' | 'exitError'>;
  readonly tracker: InvocationTracker;
  readonly scheduler: FlushScheduler;
  readonly platform?: PlatformHandler;
  readonly log: Logger;
  /** Whether platform.runtimeDone events will arrive (a Telemetry API subscription with "platform"). */
  readonly runtimeDoneExpected: () => boolean;
  /** Called once, right after the first /next request is sent: work that need not delay init goes here. */
  readonly onFirstWait?: () => void;
  /** Called once, at the end; exits the process in production. */
  readonly exit: (code: number) => void;
  readonly now?: () => number;
  /** Longest wait for the flushed notice when no platform.runtimeDone will come (default NO_PLATFORM_WAIT_MS). */
  readonly noPlatformWaitMs?: number;
}

/** Time kept before the SHUTDOWN deadline for the process to exit. */
export const SHUTDOWN_EXIT_MARGIN_MS = 100;
/**
 * Longest wait at SHUTDOWN for Telemetry API events in flight (never more than half of the time left, so the
 * final flush keeps the other half). It ends as soon as the last event is in: Lambda delivers within its
 * buffering timeout (25 ms by default), and only a busy host or lost events make it last.
 */
export const SHUTDOWN_SETTLE_MAX_MS = 1_000;
/** Time kept before the invocation deadline when waiting for its telemetry. */
export const WAIT_RESERVE_MS = 50;
/** Longest wait for the flushed notice without platform events: well within the SHUTDOWN deadline of a reset. */
export const NO_PLATFORM_WAIT_MS = 1_000;
const MAX_NEXT_FAILURES = 5;

export class LifecycleController {
  private readonly now: () => number;
  invocations = 0;
  /** How each invocation's wait ended, for logs and tests. */
  readonly completions = { flushed: 0, runtimeDone: 0, deadline: 0, notWaited: 0 };
  /** Without platform events: an invocation was waited for and sent no notice before any ever came. */
  private noNoticeFromFunction = false;
  /** SHUTDOWN has arrived (exporters begin their final accounting then). */
  shutdownBegan = false;

  constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? Date.now;
  }

  async run(): Promise<void> {
    let failures = 0;
    let first = true;
    for (;;) {
      let event: LifecycleEvent;
      try {
        const pending = this.options.api.next();
        if (first) {
          first = false;
          try {
            this.options.onFirstWait?.();
          } catch (error) {
            this.options.log.error(`start-up work after the first /next failed: ${String(error)}`);
          }
        }
        event = await pending;
        failures = 0;
      } catch (error) {
        failures++;
        this.options.log.error(`Extensions API /next failed (${failures}/${MAX_NEXT_FAILURES}): ${String(error)}`);
        if (failures >= MAX_NEXT_FAILURES) {
          await this.options.api.exitError('Extension.NextFailed', String(error)).catch(() => {});
          this.options.exit(1);
          return;
        }
        await new Promise((r) => setTimeout(r, 20 * failures));
        continue;
      }
      if (event.eventType === 'SHUTDOWN') {
        await this.shutdown(event.deadlineMs, event.shutdownReason);
        return;
      }
      await this.invoke(event);
    }
  }

  private async invoke(event: InvokeEvent): Promise<void> {
    this.invocations++;
    const { log, tracker, scheduler } = this.options;
    try {
      this.options.platform?.noteInvoke(event);
    } catch (error) {
      log.once('note-invoke', 'error', `platform module failed on INVOKE: ${String(error)}`);
    }
    scheduler.onInvoke(event.deadlineMs);
    // Wait only when something can say the function is done (runtimeDone or its notice, or the notice may yet
    // come: the function has not shown that it lacks the wrapper) and the scheduler means to flush at the end;
    // otherwise /next at once (the function's data still arrives while it runs).
    const runtimeDone = this.options.runtimeDoneExpected();
    const canTell = runtimeDone || tracker.sawFlushedNotice || !this.noNoticeFromFunction;
    if (canTell && scheduler.expectsFlushAtEnd()) {
      const byDeadline = event.deadlineMs - WAIT_RESERVE_MS;
      const startedMs = this.now();
      const until = runtimeDone
        ? byDeadline
        : Math.min(byDeadline, startedMs + (this.options.noPlatformWaitMs ?? NO_PLATFORM_WAIT_MS));
      const how = await tracker.wait(event.requestId, until, this.now);
      this.completions[how]++;
      if (how === 'deadline' && !runtimeDone && !tracker.sawFlushedNotice) {
        this.noNoticeFromFunction = true;
        log.debug(
          `invocation ${event.requestId}: no flushed notice and no platform events; later invocations are not waited for`,
        );
      } else if (how === 'deadline') {
        log.once(
          'wait-deadline',
          'warn',
          runtimeDone
            ? `invocation ${event.requestId}: no runtimeDone or flushed notice before its deadline; flushing what arrived (logged once)`
            : `invocation ${event.requestId}: no flushed notice within ${Math.max(0, Math.round(until - startedMs))} ms and no platform events to say the runtime is done; flushing what arrived, the rest leaves with the next flush (logged once)`,
        );
      }
    } else {
      this.completions.notWaited++;
    }
    await scheduler.onInvocationDone();
  }

  private async shutdown(deadlineMs: number, reason: string | undefined): Promise<void> {
    this.shutdownBegan = true;
    const { log } = this.options;
    const flushDeadline = deadlineMs - SHUTDOWN_EXIT_MARGIN_MS;
    // Whatever happens below, leave before Lambda's deadline.
    const watchdog = setTimeout(
      () => this.options.exit(0),
      Math.max(0, flushDeadline + SHUTDOWN_EXIT_MARGIN_MS / 2 - this.now()),
    );
    log.debug(`SHUTDOWN (${reason ?? 'unknown reason'}); ${deadlineMs - this.now()} ms left`);
    try {
      const settleFor = Math.min(SHUTDOWN_SETTLE_MAX_MS, Math.max(0, (flushDeadline - this.now()) / 2));
      await this.options.platform?.settle?.(this.now() + settleFor);
    } catch (error) {
      log.once('settle', 'warn', `waiting for the last Telemetry API events failed: ${String(error)}`);
    }
    try {
      await this.options.scheduler.onShutdown(flushDeadline);
    } catch (error) {
      log.error(`final flush failed: ${String(error)}`);
    }
    clearTimeout(watchdog);
    this.options.exit(0);
  }
}
