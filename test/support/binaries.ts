/**
 * Finds the real backend binaries the tests run against. Where one is missing
 * the suite is skipped with a loud reason, except under CI=true, where a
 * missing binary fails the run (CI installs them in .ci/run).
 */
import { execFileSync } from 'node:child_process';

export function findBinary(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Returns the path, or undefined after printing why the suite is skipped; throws under CI. */
export function requireBinary(name: string, installHint = 'bash scripts/install-system-deps.sh'): string | undefined {
  const found = findBinary(name);
  if (found) return found;
  const message = `${name} is not on PATH; install it with: ${installHint}`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  console.warn(`SKIPPING: ${message}`);
  return undefined;
}
