/**
 * Builds the extension layer: one minified executable at
 * dist/layer/extensions/observed-lambda (no node_modules at run time; the
 * source map stays outside the layer), then dist/layer.zip.
 */
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..');
const layerDir = join(root, 'dist', 'layer');
const extensionFile = join(layerDir, 'extensions', 'observed-lambda');

async function main(): Promise<void> {
  rmSync(layerDir, { recursive: true, force: true });
  mkdirSync(dirname(extensionFile), { recursive: true });
  await build({
    entryPoints: [join(root, 'extension-src', 'main.ts')],
    outfile: extensionFile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    sourcemap: 'external',
    legalComments: 'none',
    logLevel: 'warning',
  });
  chmodSync(extensionFile, 0o755);
  // esbuild writes the map beside the bundle; keep it out of the layer.
  mkdirSync(join(root, 'dist', 'sourcemaps'), { recursive: true });
  renameSync(`${extensionFile}.map`, join(root, 'dist', 'sourcemaps', 'observed-lambda.map'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
