/** Builds the extension from source into a temporary layer directory, as the layer ships it. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function buildExtensionLayer(): Promise<{ dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'observed-layer-'));
  const file = join(dir, 'extensions', 'observed-lambda');
  mkdirSync(join(dir, 'extensions'), { recursive: true });
  await build({
    entryPoints: [join(__dirname, '..', '..', '..', 'extension-src', 'main.ts')],
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  chmodSync(file, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
