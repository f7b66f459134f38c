/**
 * The flush entry the queueing exporters share (extension-src/exporters/serial-flush.ts): one send
 * round at a time, a failing backend skipped while it cools down except at SHUTDOWN, and the
 * SHUTDOWN deadline remembered.
 */
import { describe, expect, it, vi } from 'vitest';
import { SerialFlush } from '../../../extension-src/exporters/serial-flush.js';
import { BackendHealth } from '../../../extension-src/exporters/transport/retrying.js';

/** A send round that waits until released, recording how it was called. */
function gatedRounds() {
  const calls: { deadlineMs: number; final: boolean }[] = [];
  let release: () => void = () => {};
  const send = (deadlineMs: number, final: boolean) => {
    calls.push({ deadlineMs, final });
    return new Promise<void>((resolve) => (release = resolve));
  };
  return { calls, send, release: () => release() };
}

describe('serial flush', () => {
  it('runs one round at a time: a flush during a round waits for it before starting its own', async () => {
    const rounds = gatedRounds();
    const flush = new SerialFlush(new BackendHealth(), rounds.send);
    const far = Date.now() + 10_000;

    const first = flush.flush(far);
    const second = flush.flush(far);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rounds.calls).toHaveLength(1);
    expect(flush.busy).toBe(true);

    rounds.release();
    await first;
    await vi.waitFor(() => expect(rounds.calls).toHaveLength(2));
    rounds.release();
    await second;
    expect(flush.busy).toBe(false);
  });

  it('gives up waiting for a round at its own deadline, leaving the work to that round', async () => {
    const rounds = gatedRounds();
    const flush = new SerialFlush(new BackendHealth(), rounds.send);
    void flush.flush(Date.now() + 10_000);
    const started = Date.now();
    await flush.flush(Date.now() + 50);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(rounds.calls).toHaveLength(1);
    rounds.release();
  });

  it('skips a cooling-down backend and an empty queue, but not at SHUTDOWN, and remembers its deadline', async () => {
    let queued = 0;
    const calls: boolean[] = [];
    const health = new BackendHealth(60_000);
    const flush = new SerialFlush(
      health,
      async (_deadlineMs, final) => {
        calls.push(final);
      },
      () => queued > 0,
    );

    await flush.flush(Date.now() + 1_000);
    expect(calls).toEqual([]);
    queued = 3;
    health.failed();
    await flush.flush(Date.now() + 1_000);
    expect(calls).toEqual([]);
    expect(flush.final).toBe(false);

    const deadline = Date.now() + 1_000;
    await flush.flush(deadline, { final: true });
    expect(calls).toEqual([true]);
    expect(flush.final).toBe(true);
    expect(flush.finalDeadlinePassed(deadline - 1)).toBe(false);
    expect(flush.finalDeadlinePassed(deadline)).toBe(true);
  });
});
