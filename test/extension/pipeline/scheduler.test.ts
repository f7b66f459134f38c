/** The flush strategies, with a clock that moves only when told and a pipeline that records flushes. */
import { describe, expect, it } from 'vitest';
import type { FlushConfig } from '../../../extension-src/config/index.js';
import type { Pipeline } from '../../../extension-src/pipeline/pipeline.js';
import { FlushScheduler } from '../../../extension-src/pipeline/scheduler.js';
import { silentLogger } from '../../../extension-src/self-telemetry/log.js';

class FakePipeline {
  pending = 0;
  oldest: number | undefined;
  flushes: { trigger: string; deadlineMs: number; at: number }[] = [];
  shutdowns: number[] = [];
  constructor(private readonly clock: { now: number }) {}
  /** Data arrives now. */
  receive(items = 1) {
    if (this.pending === 0) this.oldest = this.clock.now;
    this.pending += items;
  }
  pendingItems() {
    return this.pending;
  }
  oldestPendingMs() {
    return this.pending > 0 ? this.oldest : undefined;
  }
  async flush(deadlineMs: number, options: { trigger: string }) {
    this.flushes.push({ trigger: options.trigger, deadlineMs, at: this.clock.now });
    this.pending = 0;
    this.oldest = undefined;
  }
  async shutdown(deadlineMs: number) {
    this.shutdowns.push(deadlineMs);
  }
}

function setup(strategy: FlushConfig['strategy'], maxAgeMs = 5_000, timeoutMs = 2_000) {
  const clock = { now: 1_000_000 };
  const pipeline = new FakePipeline(clock);
  const scheduler = new FlushScheduler(
    { strategy, maxAgeMs, timeoutMs },
    pipeline as unknown as Pipeline,
    silentLogger,
    () => clock.now,
  );
  /** One invocation: INVOKE, the function works `workMs` producing data, done; then `gapMs` frozen. */
  const invocation = async (workMs = 10, gapMs = 0) => {
    scheduler.onInvoke(clock.now + 3_000);
    await Promise.resolve();
    clock.now += workMs;
    pipeline.receive(5);
    await scheduler.onInvocationDone();
    clock.now += gapMs;
  };
  return { clock, pipeline, scheduler, invocation };
}

describe('FlushScheduler', () => {
  it('end-of-invocation flushes at the end of every invocation, by the invocation deadline', async () => {
    const { pipeline, invocation, clock } = setup({ kind: 'end-of-invocation' });
    for (let i = 0; i < 3; i++) await invocation(10, 100);
    expect(pipeline.flushes.map((f) => f.trigger)).toEqual(['invocation', 'invocation', 'invocation']);
    const last = pipeline.flushes[2];
    // Deadline: the earlier of the invocation deadline (less a reserve) and the flush timeout.
    expect(last.deadlineMs).toBeLessThanOrEqual(last.at + 2_000);
    expect(last.deadlineMs).toBeLessThanOrEqual(clock.now + 3_000);
  });

  it('periodic flushes only once the interval has passed', async () => {
    const { pipeline, invocation } = setup({ kind: 'periodic', intervalMs: 1_000 });
    for (let i = 0; i < 10; i++) await invocation(10, 290);
    // 300 ms per invocation: a flush every fourth invocation or so.
    expect(pipeline.flushes.length).toBeGreaterThanOrEqual(2);
    expect(pipeline.flushes.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < pipeline.flushes.length; i++) {
      expect(pipeline.flushes[i].at - pipeline.flushes[i - 1].at).toBeGreaterThanOrEqual(1_000);
    }
  });

  it('adaptive flushes every rare invocation before /next', async () => {
    const { pipeline, invocation } = setup({ kind: 'adaptive' });
    for (let i = 0; i < 4; i++) await invocation(10, 60_000);
    expect(pipeline.flushes.map((f) => f.trigger)).toEqual(['invocation', 'invocation', 'invocation', 'invocation']);
  });

  it('adaptive exports in the background during busy periods and never holds data past the maximum age', async () => {
    const { pipeline, invocation, clock } = setup({ kind: 'adaptive' }, 1_000);
    const start = clock.now;
    for (let i = 0; i < 100; i++) await invocation(5, 15);
    const elapsed = clock.now - start;
    // Back to back (20 ms apart): far fewer flushes than invocations, most of them in the background.
    expect(pipeline.flushes.length).toBeLessThan(30);
    expect(pipeline.flushes.filter((f) => f.trigger === 'background').length).toBeGreaterThan(0);
    // Never a gap longer than the maximum age between flushes while data was pending.
    const times = [start, ...pipeline.flushes.map((f) => f.at), clock.now];
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeLessThanOrEqual(1_000);
    expect(elapsed).toBe(2_000);
  });

  it('adaptive flushes before /next when a busy period ends in a long pause', async () => {
    const { pipeline, invocation } = setup({ kind: 'adaptive' }, 1_000);
    for (let i = 0; i < 20; i++) await invocation(5, 15);
    const before = pipeline.flushes.length;
    await invocation(5, 30_000); // the gap after is not known yet: this one may be held
    await invocation(5, 0); // after a long pause the prediction says rare: flushed at once
    expect(pipeline.flushes.length).toBeGreaterThan(before);
    expect(pipeline.flushes.at(-1)!.trigger).toBe('invocation');
    expect(pipeline.pending).toBe(0);
  });

  it('tells the lifecycle whether to wait for the end of an invocation', async () => {
    const endOf = setup({ kind: 'end-of-invocation' });
    expect(endOf.scheduler.expectsFlushAtEnd()).toBe(true);
    const periodic = setup({ kind: 'periodic', intervalMs: 1_000 });
    await periodic.invocation(10, 100);
    expect(periodic.scheduler.expectsFlushAtEnd()).toBe(false);
    periodic.clock.now += 1_000;
    expect(periodic.scheduler.expectsFlushAtEnd()).toBe(true);
    const adaptive = setup({ kind: 'adaptive' }, 1_000);
    expect(adaptive.scheduler.expectsFlushAtEnd()).toBe(true); // nothing known: treated as rare
    for (let i = 0; i < 5; i++) await adaptive.invocation(5, 15);
    expect(adaptive.scheduler.expectsFlushAtEnd()).toBe(false); // busy
  });

  it('hands SHUTDOWN to the pipeline with its deadline', async () => {
    const { pipeline, scheduler, clock } = setup({ kind: 'adaptive' });
    await scheduler.onShutdown(clock.now + 1_900);
    expect(pipeline.shutdowns).toEqual([clock.now + 1_900]);
  });
});
