/**
 * `npm run demo` as a newcomer runs it in a checkout: it reports every invocation and leaves the checkout's
 * build (dist/, which `cdk synth` packages) exactly as it found it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

/** Every file under dist/ with its mode and content hash (empty when there is no dist/). */
function distSnapshot(): Record<string, string> {
  const dist = join(ROOT, 'dist');
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else
        files[relative(dist, path)] = `${stat.mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    }
  };
  if (existsSync(dist)) walk(dist);
  return files;
}

describe('npm run demo', () => {
  it('reports all 30 invocations and leaves dist/ as it found it', async () => {
    const before = distSnapshot();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
      cwd: ROOT,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toContain('faas.invocations{} = 30');
    expect(stdout).toContain('sample.invocations (cumulative) last value: 30');
    expect(distSnapshot()).toEqual(before);
  }, 150_000);
});
