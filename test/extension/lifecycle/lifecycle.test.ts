/**
 * The lifecycle controller with a scripted Extensions API: what ends the wait
 * after INVOKE (flushed notice, runtimeDone, deadline), SHUTDOWN, and an
 * Extensions API that stops answering.
 */
import { describe, expect, it } from 'vitest';
import { LifecycleController } from '../../../extension-src/lifecycle/controller.js';
import type { LifecycleEvent } from '../../../extension-src/lifecycle/extensions-api.js';
import { InvocationTracker } from '../../../extension-src/lifecycle/invocations.js';
import type { FlushScheduler } from '../../../extension-src/pipeline/scheduler.js';
import { silentLogger } from '../../../extension-src/self-telemetry/log.js';

function harness(
  events: (LifecycleEvent | Error)[],
  options: { runtimeDone?: boolean; flushAtEnd?: boolean; noPlatformWaitMs?: number } = {},
) {
  const calls: string[] = [];
  const tracker = new InvocationTracker();
  let exitCode: number | undefined;
  let resolveExit: () => void = () => {};
  const exited = new Promise<void>((resolve) => {
    resolveExit = resolve;
  });
  const api = {
    async next(): Promise<LifecycleEvent> {
      const event = events.shift();
      if (!event) return new Promise(() => {}); // blocks, as /next does
      if (event instanceof Error) throw event;
      calls.push(`next:${event.eventType}`);
      return event;
    },
    async exitError(type: string) {
      calls.push(`exitError:${type}`);
    },
  };
  const scheduler = {
    onInvoke: () => calls.push('onInvoke'),
    expectsFlushAtEnd: () => options.flushAtEnd ?? true,
    onInvocationDone: async () => {
      calls.push('done');
    },
    onShutdown: async (deadline: number) => {
      calls.push(`shutdown:${deadline > Date.now() ? 'future' : 'past'}`);
    },
  } as unknown as FlushScheduler;
  const controller = new LifecycleController({
    api,
    tracker,
    scheduler,
    log: silentLogger,
    runtimeDoneExpected: () => options.runtimeDone ?? true,
    noPlatformWaitMs: options.noPlatformWaitMs,
    exit: (code) => {
      if (exitCode !== undefined) return;
      exitCode = code;
      calls.push(`exit:${code}`);
      resolveExit();
    },
  });
  return { controller, tracker, calls, exited, code: () => exitCode };
}

const invoke = (requestId: string, deadlineMs = Date.now() + 3_000): LifecycleEvent => ({
  eventType: 'INVOKE',
  requestId,
  deadlineMs,
});
const shutdown = (deadlineMs = Date.now() + 2_000): LifecycleEvent => ({ eventType: 'SHUTDOWN', deadlineMs });

describe('LifecycleController', () => {
  it('waits for the flushed notice or runtimeDone of each invocation, even one that came before the INVOKE', async () => {
    const h = harness([invoke('a'), invoke('b'), shutdown()]);
    h.tracker.complete('b', 'flushed'); // early: before the extension read its INVOKE
    void h.controller.run();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.calls).toEqual(['next:INVOKE', 'onInvoke']);
    h.tracker.complete('a', 'runtimeDone');
    await h.exited;
    expect(h.calls).toEqual([
      'next:INVOKE',
      'onInvoke',
      'done',
      'next:INVOKE',
      'onInvoke',
      'done',
      'next:SHUTDOWN',
      'shutdown:future',
      'exit:0',
    ]);
    expect(h.controller.completions).toMatchObject({ runtimeDone: 1, flushed: 1, deadline: 0 });
  });

  it('stops waiting at the invocation deadline', async () => {
    const h = harness([invoke('slow', Date.now() + 150), shutdown()]);
    const started = Date.now();
    void h.controller.run();
    await h.exited;
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(h.controller.completions.deadline).toBe(1);
  });

  it('without platform events, waits for the first invocation briefly, and not again when the function sent no notice', async () => {
    const h = harness([invoke('first', Date.now() + 60_000), invoke('second', Date.now() + 60_000), shutdown()], {
      runtimeDone: false,
      noPlatformWaitMs: 150,
    });
    const started = Date.now();
    void h.controller.run();
    await h.exited;
    // The first invocation's data is flushed before /next: the flush ('done') follows the wait.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(h.controller.completions).toMatchObject({ deadline: 1, notWaited: 1 });
  });

  it('without platform events, the first invocation ends at its flushed notice and is flushed before /next', async () => {
    const h = harness([invoke('first', Date.now() + 60_000), shutdown()], { runtimeDone: false });
    void h.controller.run();
    await new Promise((r) => setTimeout(r, 30));
    expect(h.calls).toEqual(['next:INVOKE', 'onInvoke']);
    h.tracker.complete('first', 'flushed');
    await h.exited;
    expect(h.calls.slice(0, 4)).toEqual(['next:INVOKE', 'onInvoke', 'done', 'next:SHUTDOWN']);
    expect(h.controller.completions).toMatchObject({ flushed: 1, deadline: 0 });
  });

  it('without platform events, a function that dies before its notice does not keep the extension out of /next until its deadline', async () => {
    // The crash: the notice for 'crashes' never comes; Lambda's reset SHUTDOWN can only be read by /next.
    const h = harness([invoke('ok', Date.now() + 60_000), invoke('crashes', Date.now() + 60_000), shutdown()], {
      runtimeDone: false,
      noPlatformWaitMs: 200,
    });
    h.tracker.complete('ok', 'flushed');
    const started = Date.now();
    void h.controller.run();
    await h.exited;
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(h.controller.completions).toMatchObject({ flushed: 1, deadline: 1 });
    expect(h.calls).toContain('next:SHUTDOWN');
  });

  it('without platform events, never waits past the invocation deadline', async () => {
    const h = harness([invoke('short', Date.now() + 150), shutdown()], {
      runtimeDone: false,
      noPlatformWaitMs: 60_000,
    });
    const started = Date.now();
    void h.controller.run();
    await h.exited;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(h.controller.completions.deadline).toBe(1);
  });

  it('does not wait when the scheduler will not flush at the end of this invocation', async () => {
    const h = harness([invoke('busy'), shutdown()], { flushAtEnd: false });
    void h.controller.run();
    await h.exited;
    expect(h.controller.completions.notWaited).toBe(1);
    expect(h.calls).toEqual(['next:INVOKE', 'onInvoke', 'done', 'next:SHUTDOWN', 'shutdown:future', 'exit:0']);
  });

  it('retries a failing /next, then reports the exit error and exits 1', async () => {
    const failures = Array.from({ length: 5 }, () => new Error('connection refused'));
    const h = harness(failures);
    await h.controller.run();
    expect(h.calls).toEqual(['exitError:Extension.NextFailed', 'exit:1']);
  });

  it('recovers from a /next that fails once', async () => {
    const h = harness([new Error('reset'), invoke('r'), shutdown()], { runtimeDone: false });
    await h.controller.run();
    expect(h.code()).toBe(0);
    expect(h.calls).toContain('next:INVOKE');
  });
});
