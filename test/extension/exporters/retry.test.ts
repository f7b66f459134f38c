/** The shared retry helper: backoff, Retry-After, deadlines, and the cool-down of a failing backend. */
import { describe, expect, it } from 'vitest';
import {
  BackendHealth,
  backoffDelay,
  done,
  isRetryableStatus,
  parseRetryAfter,
  retry,
  retryWithin,
} from '../../../extension-src/exporters/retry.js';

/** A clock that only moves when the code under test sleeps. */
function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

describe('retry helper', () => {
  it('grows the wait exponentially with jitter in [d/2, d], capped', () => {
    const policy = { initialMs: 100, maxMs: 1_000 };
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(400);
    expect(backoffDelay(10, policy, () => 1)).toBe(1_000);
    expect(backoffDelay(10, policy, () => 0)).toBe(500);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3_000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('retries only the OTLP retryable statuses by default', () => {
    expect([429, 502, 503, 504].every((s) => isRetryableStatus(s))).toBe(true);
    expect([400, 401, 403, 404, 413, 500, 501].some((s) => isRetryableStatus(s))).toBe(false);
  });

  it('retries until done, sleeping the backoff or the server-given wait', async () => {
    const clock = fakeClock();
    const outcome = await retryWithin(
      clock.now() + 10_000,
      { initialMs: 100, maxMs: 1_000 },
      async (attempt) => (attempt === 1 ? retry('HTTP 503') : attempt === 2 ? retry('HTTP 429', 2_000) : done('ok')),
      { now: clock.now, sleep: clock.sleep, random: () => 1 },
    );
    expect(outcome).toEqual({ outcome: 'done', value: 'ok', attempts: 3 });
    expect(clock.sleeps).toEqual([100, 2_000]);
  });

  it('stops before the deadline and says when the server wants to be called again', async () => {
    const clock = fakeClock();
    const deadline = clock.now() + 1_000;
    const outcome = await retryWithin(
      deadline,
      { initialMs: 100, maxMs: 1_000 },
      async () => retry('HTTP 429', 5_000),
      {
        now: clock.now,
        sleep: clock.sleep,
      },
    );
    expect(outcome.outcome).toBe('deferred');
    expect(clock.now()).toBeLessThanOrEqual(deadline);
    if (outcome.outcome === 'deferred') expect(outcome.notBeforeMs).toBe(clock.now() + 5_000);
  });

  it('never starts an attempt without time left', async () => {
    const clock = fakeClock();
    let attempts = 0;
    const outcome = await retryWithin(clock.now() + 2, { initialMs: 10, maxMs: 10 }, async () => {
      attempts++;
      return done(1);
    });
    expect(outcome.outcome).toBe('deferred');
    expect(attempts).toBe(0);
  });

  it('keeps a failing backend cooling down, doubling up to the cap, and clears it on success', () => {
    const clock = fakeClock();
    const health = new BackendHealth(1_000, 4_000, clock.now);
    expect(health.coolingDown()).toBe(false);
    expect(health.attemptsAllowed()).toBeUndefined();
    health.failed();
    expect(health.coolingDown()).toBe(true);
    expect(health.attemptsAllowed()).toBe(1);
    clock.advance(1_000);
    expect(health.coolingDown()).toBe(false);
    health.failed();
    clock.advance(1_999);
    expect(health.coolingDown()).toBe(true);
    health.failed();
    health.failed();
    clock.advance(4_000);
    expect(health.coolingDown()).toBe(false);
    health.failed(clock.now() + 60_000);
    clock.advance(30_000);
    expect(health.coolingDown()).toBe(true);
    health.succeeded();
    expect(health.coolingDown()).toBe(false);
    expect(health.attemptsAllowed()).toBeUndefined();
  });
});
