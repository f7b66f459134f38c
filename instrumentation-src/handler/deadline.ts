/**
 * A last chance before a timeout: Lambda stops a runtime that reaches its
 * deadline without warning, and what the SDK still holds is lost. So shortly
 * before the deadline, an invocation still running gets its span ended as
 * timed out and its telemetry flushed. The margin is a small share of the
 * invocation's time (100 to 300 ms), so that only invocations that are about
 * to time out are cut short in the telemetry (the handler itself runs on).
 */
import type { LambdaContext } from './lambda-types.js';

const MIN_MARGIN_MS = 100;
const MAX_MARGIN_MS = 300;
const MARGIN_SHARE = 0.05;

export class InvocationTimeout extends Error {
  constructor(marginMs: number) {
    super(`the invocation was still running ${marginMs} ms before its deadline`);
    this.name = 'TimeoutError';
  }
}

/** Runs `action` shortly before the invocation's deadline; returns a function that cancels it. */
export function beforeDeadline(
  lambdaContext: LambdaContext | undefined,
  action: (marginMs: number) => void,
): () => void {
  let remaining: number | undefined;
  try {
    remaining = lambdaContext?.getRemainingTimeInMillis?.();
  } catch {
    remaining = undefined;
  }
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return () => {};
  const margin = Math.round(Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, remaining * MARGIN_SHARE)));
  if (remaining <= margin * 2) return () => {};
  const timer = setTimeout(() => action(margin), remaining - margin);
  // Waiting for a deadline must not keep an otherwise finished process alive.
  timer.unref();
  return () => clearTimeout(timer);
}
