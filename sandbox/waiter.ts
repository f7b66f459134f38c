import { preciseNowMs } from './clock.js';

/** Waits for conditions that change when the APIs or the processes report something. */
export class ChangeWaiter {
  private resolvers: (() => void)[] = [];

  /** Wakes every waiter so it re-checks its condition. */
  notify(): void {
    const resolvers = this.resolvers;
    this.resolvers = [];
    for (const r of resolvers) r();
  }

  /** Resolves true once `condition()` holds, false if `deadlineMs` (epoch) passes first. */
  async until(condition: () => boolean, deadlineMs: number): Promise<boolean> {
    for (;;) {
      if (condition()) return true;
      const left = deadlineMs - preciseNowMs();
      if (left <= 0) return condition();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.resolvers.push(done);
      });
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
