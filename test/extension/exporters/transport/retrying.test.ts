/** The one retrying transport: backoff, Retry-After, deadlines, per-protocol verdicts, and the cool-down of a failing backend. */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OTLP_STATUS, REMOTE_WRITE_STATUS } from '../../../../extension-src/exporters/transport/classify.js';
import {
  BackendHealth,
  backoffDelay,
  done,
  retry,
  retryWithin,
  sendWithRetry,
} from '../../../../extension-src/exporters/transport/retrying.js';
import { parseRetryAfter } from '../../../../extension-src/exporters/transport/send.js';

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

  it('retries only the OTLP retryable statuses for OTLP, every 5xx and 429 for remote write', () => {
    expect([429, 502, 503, 504].every((s) => OTLP_STATUS(s) === 'retryable')).toBe(true);
    expect([400, 401, 403, 404, 413, 500, 501].every((s) => OTLP_STATUS(s) === 'rejected')).toBe(true);
    expect([429, 500, 501, 503].every((s) => REMOTE_WRITE_STATUS(s) === 'retryable')).toBe(true);
    expect([400, 404, 413].every((s) => REMOTE_WRITE_STATUS(s) === 'rejected')).toBe(true);
    expect([200, 204].every((s) => OTLP_STATUS(s) === 'delivered' && REMOTE_WRITE_STATUS(s) === 'delivered')).toBe(
      true,
    );
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

describe('sendWithRetry over HTTP', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** A backend that answers each request with the next of `answers` (status, headers, body). */
  async function backend(answers: [number, Record<string, string>, string][]): Promise<URL> {
    let next = 0;
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const [status, headers, body] = answers[Math.min(next++, answers.length - 1)];
        res.writeHead(status, headers).end(body);
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`);
  }

  it("waits the server's Retry-After after a retryable answer, then is delivered", async () => {
    const url = await backend([
      [503, { 'retry-after': '0.05' }, 'busy'],
      [200, {}, ''],
    ]);
    const reasons: string[] = [];
    const result = await sendWithRetry(
      { url, body: Buffer.from('x'), headers: () => ({}), timeoutMs: 2_000 },
      OTLP_STATUS,
      Date.now() + 5_000,
      { initialMs: 10_000, maxMs: 10_000 },
      { onRetry: (reason) => reasons.push(reason) },
    );
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2 });
    expect(reasons).toEqual(['HTTP 503: busy']);
  });

  it('gives up at once on a final answer, with its message on one line', async () => {
    const url = await backend([[400, {}, 'out of order\nsample']]);
    const result = await sendWithRetry(
      { url, body: Buffer.from('x'), headers: () => ({}), timeoutMs: 2_000 },
      REMOTE_WRITE_STATUS,
      Date.now() + 5_000,
    );
    expect(result).toEqual({ outcome: 'rejected', status: 400, message: 'out of order sample', attempts: 1 });
  });

  it('sends nothing when the headers cannot be made (no credentials to sign with)', async () => {
    const url = await backend([[200, {}, '']]);
    const result = await sendWithRetry(
      {
        url,
        headers: () => {
          throw new Error('no AWS credentials');
        },
        timeoutMs: 2_000,
      },
      REMOTE_WRITE_STATUS,
      Date.now() + 5_000,
    );
    expect(result).toMatchObject({ outcome: 'rejected', status: 0, attempts: 1 });
    expect((result as { message: string }).message).toContain('no AWS credentials');
  });
});
