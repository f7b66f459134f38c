/**
 * Builds the extension layer: one minified executable at
 * dist/layer/extensions/observed-lambda (no node_modules at run time; the
 * source map stays outside the layer), then dist/layer.zip, deterministic
 * (fixed timestamps, sorted entries, mode 0755 for the executable), ready to
 * publish as a Lambda layer.
 *
 * `buildLayer(dir)` is also used by tests and benchmarks to build the
 * current source into a directory of their own.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { NODE_EXECUTABLE } from './node-bundle.js';
import { createZip } from './zip.js';

const root = join(__dirname, '..');

export const EXTENSION_NAME = 'observed-lambda';

export interface BuiltLayer {
  /** The layer directory (as mounted at /opt). */
  readonly layerDir: string;
  readonly executable: string;
  readonly zipPath: string;
  readonly zipBytes: number;
  readonly executableBytes: number;
}

/** Builds the extension into `<outDir>/layer` and `<outDir>/layer.zip`. */
export async function buildLayer(outDir = join(root, 'dist')): Promise<BuiltLayer> {
  const layerDir = join(outDir, 'layer');
  const executable = join(layerDir, 'extensions', EXTENSION_NAME);
  const zipPath = join(outDir, 'layer.zip');
  const mapDir = join(outDir, 'sourcemaps');
  rmSync(layerDir, { recursive: true, force: true });
  mkdirSync(dirname(executable), { recursive: true });
  await build({
    entryPoints: [join(root, 'extension-src', 'main.ts')],
    outfile: executable,
    ...NODE_EXECUTABLE,
    sourcemap: 'external',
  });
  chmodSync(executable, 0o755);
  // esbuild writes the map beside the bundle; keep it out of the layer.
  mkdirSync(mapDir, { recursive: true });
  renameSync(`${executable}.map`, join(mapDir, `${EXTENSION_NAME}.map`));
  const code = readFileSync(executable);
  const zip = createZip([
    { path: 'extensions/', mode: 0o755 },
    { path: `extensions/${EXTENSION_NAME}`, data: code, mode: 0o755 },
  ]);
  writeFileSync(zipPath, zip);
  return { layerDir, executable, zipPath, zipBytes: zip.length, executableBytes: code.length };
}

if (require.main === module) {
  buildLayer().then(
    (built) =>
      console.log(
        `layer: ${built.executable} (${built.executableBytes} bytes), ${built.zipPath} (${built.zipBytes} bytes)`,
      ),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
