/**
 * Knows when an invocation's telemetry is complete: the function's SDK sent
 * the flushed notice for its request id, or the Telemetry API delivered its
 * platform.runtimeDone. Either may come before the extension has even seen
 * the INVOKE (the runtime and the extension get the event at the same time),
 * so completions are remembered (a bounded number of them).
 */
export type Completion = 'flushed' | 'runtimeDone' | 'deadline';

const REMEMBERED = 256;

export class InvocationTracker {
  private readonly completed = new Map<string, Completion>();
  private waiter: { requestId: string; resolve: (how: Completion) => void } | undefined;
  /** The function has sent at least one flushed notice: it has the wrapper. */
  sawFlushedNotice = false;

  complete(requestId: string, how: 'flushed' | 'runtimeDone'): void {
    if (how === 'flushed') this.sawFlushedNotice = true;
    if (this.waiter?.requestId === requestId) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(how);
      return;
    }
    if (this.completed.has(requestId)) return;
    this.completed.set(requestId, how);
    if (this.completed.size > REMEMBERED) {
      const oldest = this.completed.keys().next().value;
      if (oldest !== undefined) this.completed.delete(oldest);
    }
  }

  /** Resolves when `requestId` completes, or at `deadlineMs` (epoch ms) with "deadline". */
  wait(requestId: string, deadlineMs: number, now = Date.now): Promise<Completion> {
    const known = this.completed.get(requestId);
    if (known) {
      this.completed.delete(requestId);
      return Promise.resolve(known);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          if (this.waiter?.requestId === requestId) this.waiter = undefined;
          resolve('deadline');
        },
        Math.max(0, deadlineMs - now()),
      );
      this.waiter = {
        requestId,
        resolve: (how) => {
          clearTimeout(timer);
          resolve(how);
        },
      };
    });
  }
}
