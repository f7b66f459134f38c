/**
 * The published layer: one build puts the extension and the instrumentation in
 * the same directory and the same zip, and the zip has the same bytes when
 * built again from the same source.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFullLayer } from '../../scripts/build-layer.js';
import { requireBinary } from '../support/binaries.js';

const unzip = requireBinary('unzip', 'apt-get install unzip');

describe.skipIf(!unzip)('full layer build', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'observed-full-layer-'));
    dirs.push(dir);
    return dir;
  };

  it('holds the extension and the instrumentation in dist/layer and in layer.zip, with the same bytes on a rebuild', async () => {
    const first = await buildFullLayer(fresh());
    for (const path of [
      'extensions/observed-lambda',
      'observed-instrument',
      'observed-instrument.d/index.cjs',
      'observed-instrument.d/preload.cjs',
      'observed-instrument.d/esm-entry.mjs',
    ]) {
      expect(statSync(join(first.layerDir, path)).isFile()).toBe(true);
    }
    const listing = execFileSync(unzip!, ['-Z', '-l', first.zipPath], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x .* extensions\/observed-lambda$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* observed-instrument$/m);
    expect(listing).toMatch(/^-rw-r--r-- .* observed-instrument\.d\/index\.cjs$/m);
    expect(listing).not.toContain('.map');
    execFileSync(unzip!, ['-t', '-q', first.zipPath]);

    const second = await buildFullLayer(fresh());
    expect(readFileSync(second.zipPath).equals(readFileSync(first.zipPath))).toBe(true);
  }, 120_000);
});
