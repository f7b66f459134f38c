/**
 * A function's expected-values file: a JSON object whose keys are PromQL
 * series selectors (or any expression returning one sample) and whose values
 * are the numbers the backend must hold, e.g.
 *
 *   { "faas_invocations_total{faas_name=\"orders\"}": 12,
 *     "sum(orders_placed_total{env=\"test\"})": 3 }
 *
 * Values may be numbers or the strings "NaN", "+Inf", "-Inf".
 */
import { readFileSync } from 'node:fs';
import type { ExpectedSeries } from './known-set.js';

export class UsageError extends Error {}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && !Number.isNaN(value)) return value;
  if (value === 'NaN') return Number.NaN;
  if (value === '+Inf' || value === 'Inf') return Number.POSITIVE_INFINITY;
  if (value === '-Inf') return Number.NEGATIVE_INFINITY;
  return undefined;
}

export function parseExpectedValues(text: string, source: string): ExpectedSeries[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`${source} must hold a JSON object of "series selector": expected value`);
  }
  const out: ExpectedSeries[] = [];
  for (const [query, value] of Object.entries(data)) {
    const expected = toNumber(value);
    if (query.trim() === '') throw new UsageError(`${source}: an empty series selector`);
    if (expected === undefined) {
      throw new UsageError(
        `${source}: the value of ${query} is ${JSON.stringify(value)}; accepted values: a number, "NaN", "+Inf", "-Inf"`,
      );
    }
    out.push({ query, expected });
  }
  if (out.length === 0) throw new UsageError(`${source} lists no series`);
  return out;
}

export function readExpectedValues(path: string): ExpectedSeries[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the expected-values file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  return parseExpectedValues(text, path);
}
