import Long from 'long';
import { describe, expect, it } from 'vitest';
import { msToNanos } from '../../../extension-src/platform/events.js';

/** The plain 64-bit arithmetic the conversion must agree with. */
function reference(ms: number): string {
  const whole = Math.floor(ms);
  return Long.fromNumber(whole)
    .multiply(1_000_000)
    .add(Math.round((ms - whole) * 1_000_000))
    .toString();
}

describe('msToNanos', () => {
  it('gives the exact nanoseconds of epoch milliseconds, fractions included', () => {
    const samples = [
      0,
      0.5,
      1,
      999.999,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 0.25,
      1_795_428_000_123.456,
      8_999_999_999_999.5,
    ];
    for (let i = 0; i < 2000; i++) samples.push(Math.random() * 9e12, Math.floor(Math.random() * 2 ** 42));
    for (const ms of samples) expect(msToNanos(ms).toString(), String(ms)).toBe(reference(ms));
  });

  it('falls back to 64-bit arithmetic outside that range', () => {
    for (const ms of [-1.5, -1_000_000, 9e12, 9.2e12]) expect(msToNanos(ms).toString()).toBe(reference(ms));
  });
});
