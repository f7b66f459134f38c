/**
 * Expected PromQL results computed from the raw recorded values, written from
 * Prometheus's documented quantile estimation, independent of the translator.
 */

/** histogram_quantile over classic buckets: linear interpolation inside the bucket holding the rank. */
export function classicQuantile(q: number, bounds: number[], values: number[]): number {
  const upper = [...bounds, Number.POSITIVE_INFINITY];
  const cumulative = upper.map((b) => values.filter((v) => v <= b).length);
  const total = cumulative[cumulative.length - 1];
  const rank = q * total;
  let i = cumulative.findIndex((c) => c >= rank);
  if (i === upper.length - 1) return upper[upper.length - 2];
  if (i < 0) i = upper.length - 1;
  const start = i === 0 ? Math.min(upper[0], 0) : upper[i - 1];
  const below = i === 0 ? 0 : cumulative[i - 1];
  const inBucket = cumulative[i] - below;
  return start + (upper[i] - start) * ((rank - below) / inBucket);
}

/** The exponential bucket index of a positive value at a scale (bucket i holds (base^i, base^(i+1)]). */
export function exponentialIndex(value: number, scale: number): number {
  return Math.ceil(Math.log2(value) * 2 ** scale) - 1;
}

/**
 * histogram_quantile over a native histogram of positive values. Prometheus 2.x
 * interpolates linearly within the bucket; the PromQL engine of Prometheus 3
 * (Cortex 1.21) exponentially, as if the values filled the buckets of a finer
 * histogram evenly.
 */
export function nativeQuantile(
  q: number,
  scale: number,
  values: number[],
  interpolation: 'linear' | 'exponential' = 'linear',
): number {
  const counts = new Map<number, number>();
  for (const v of values) {
    const i = exponentialIndex(v, scale);
    counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  const indexes = [...counts.keys()].sort((a, b) => a - b);
  const rank = q * values.length;
  let seen = 0;
  for (const i of indexes) {
    const c = counts.get(i) ?? 0;
    if (seen + c >= rank) {
      const lower = 2 ** (i * 2 ** -scale);
      const upper = 2 ** ((i + 1) * 2 ** -scale);
      const fraction = (rank - seen) / c;
      return interpolation === 'linear' ? lower + (upper - lower) * fraction : lower * (upper / lower) ** fraction;
    }
    seen += c;
  }
  throw new Error('rank beyond the histogram');
}

export const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
