/**
 * Exact conversions of OTLP 64-bit integers (Long or number) without BigInt,
 * which is slow on the hot path.
 */
import type { Int64 } from '../otlp/types.js';

/** A count or integer value as a JavaScript number (exact below 2^53). */
export function int64ToNumber(value: Int64 | null | undefined): number {
  if (value == null) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return value.toNumber();
}

/**
 * Nanoseconds since the epoch to whole milliseconds, exact: the nanosecond
 * value does not fit a double, so the division is split at the high word
 * (2^32 = 4294 * 10^6 + 967296).
 */
export function nanosToMillis(value: Int64 | null | undefined): number {
  if (value == null) return 0;
  if (typeof value === 'number') return Math.floor(value / 1e6);
  if (typeof value === 'string') return Number(BigInt(value) / 1_000_000n);
  const high = value.high >>> 0;
  const low = value.low >>> 0;
  return high * 4294 + Math.floor((high * 967296 + low) / 1e6);
}

/** Nanoseconds as a comparable number (loses sub-microsecond precision, enough to order points). */
export function nanosToNumber(value: Int64 | null | undefined): number {
  if (value == null) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  return (value.high >>> 0) * 4294967296 + (value.low >>> 0);
}
