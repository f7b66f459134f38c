/**
 * The instrumentation's own diagnostics: one clear line on stderr per
 * distinct problem, so a misconfiguration is visible in the function's logs
 * without flooding them on every invocation.
 */

const PREFIX = 'observed-lambda instrumentation:';
const MAX_LINES = 20;
const reported = new Set<string>();

/** Writes `message` once per `key` (and at most a few lines per process). */
export function warnOnce(key: string, message: string): void {
  if (reported.has(key) || reported.size >= MAX_LINES) return;
  reported.add(key);
  try {
    process.stderr.write(`${PREFIX} ${message}\n`);
  } catch {
    // stderr closed: nothing else to tell.
  }
}

/** A short, single-line description of an unknown thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.split('\n')[0];
  return String(error).split('\n')[0];
}
