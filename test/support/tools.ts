/**
 * Finds the tools that scripts/install/*.sh build into the cache outside the clone
 * (scripts/install/tools-cache.sh). Where one is missing the suite is skipped with a loud reason,
 * except under CI=true, where a missing tool fails the run.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function toolsCacheDir(): string {
  if (process.env.OBSERVED_TOOLS_CACHE) return process.env.OBSERVED_TOOLS_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'observed-lambda');
}

/** The path of `relativePath` inside the cache (e.g. 'cortex-1.21.1/cortex') if it exists. */
export function findCachedTool(relativePath: string): string | undefined {
  const path = join(toolsCacheDir(), relativePath);
  return existsSync(path) ? path : undefined;
}

/** Returns the path, or undefined after printing why the suite is skipped; throws under CI. */
export function requireCachedTool(relativePath: string, installer: string): string | undefined {
  const found = findCachedTool(relativePath);
  if (found) return found;
  const message = `${join(toolsCacheDir(), relativePath)} is missing; install it with: bash ${installer} (npm test runs it)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  console.warn(`SKIPPING: ${message}`);
  return undefined;
}
