/**
 * Benchmark: size of the extension layer (the one minified executable and the
 * deterministic zip that is published). Aim: zip < 500 KB.
 *
 * Run alone: `npx tsx bench/run.ts layer-size`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildLayer } from '../../scripts/build-extension.js';

export const title = 'Layer size';

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-layer-'));
  try {
    const built = await buildLayer(dir);
    const gzip = gzipSync(readFileSync(built.executable), { level: 9 }).length;
    return [
      {
        file: 'extensions/observed-lambda (minified)',
        bytes: built.executableBytes,
        'gzip -9 bytes': gzip,
        'layer.zip bytes': built.zipBytes,
        'aim (zip)': '< 500 KB',
        met: built.zipBytes < 500 * 1000 ? 'yes' : 'no',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
