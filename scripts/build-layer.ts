/**
 * Builds the one Lambda layer this package publishes, with both parts:
 *   dist/layer/extensions/observed-lambda     the extension (build-extension.ts)
 *   dist/layer/observed-instrument(.d/)       the in-function instrumentation (build-instrumentation.ts)
 * then dist/layer.zip of the whole directory, deterministic (sorted entries,
 * fixed timestamps, modes 0755 for directories and executables, 0644 for the
 * rest). Also dist/instrumentation/index.js for ObservedFunction's entry.
 *
 * Then dist/layer-portable/ and its zip, the layer for runtimes without Node.js
 * (build-portable-layer.ts), when its engine is in the tools cache.
 *
 * `npm run build:extension` still builds the extension alone (tests use
 * buildLayer() from build-extension.ts for that).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { buildLayer } from './build-extension.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from './build-instrumentation.js';
import { createZip, type ZipEntry } from './zip.js';

const root = join(__dirname, '..');

/** Every directory and file under `dir`, as zip entries with normalised modes (umask must not change the bytes). */
export function layerEntries(dir: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const walk = (current: string) => {
    for (const name of readdirSync(current).sort()) {
      const full = join(current, name);
      const path = relative(dir, full).split('\\').join('/');
      const stat = statSync(full);
      if (stat.isDirectory()) {
        entries.push({ path: `${path}/`, mode: 0o755 });
        walk(full);
      } else if (stat.isFile()) {
        entries.push({ path, data: readFileSync(full), mode: stat.mode & 0o111 ? 0o755 : 0o644 });
      }
    }
  };
  walk(dir);
  return entries;
}

export interface BuiltFullLayer {
  readonly layerDir: string;
  readonly zipPath: string;
  readonly zipBytes: number;
  readonly extensionBytes: number;
  readonly instrumentationBytes: number;
}

/** Builds the extension and the instrumentation into `<outDir>/layer`, then `<outDir>/layer.zip` of both. */
export async function buildFullLayer(outDir = join(root, 'dist')): Promise<BuiltFullLayer> {
  const extension = await buildLayer(outDir);
  const index = await buildInstrumentationLayer(extension.layerDir, join(outDir, 'sourcemaps', WRAPPER_NAME));
  const moduleFile = join(outDir, 'instrumentation', 'index.js');
  mkdirSync(dirname(moduleFile), { recursive: true });
  copyFileSync(index, moduleFile);
  const zip = createZip(layerEntries(extension.layerDir));
  writeFileSync(extension.zipPath, zip);
  return {
    layerDir: extension.layerDir,
    zipPath: extension.zipPath,
    zipBytes: zip.length,
    extensionBytes: extension.executableBytes,
    instrumentationBytes: statSync(index).size,
  };
}

if (require.main === module) {
  buildFullLayer().then(
    async (built) => {
      console.log(
        `layer: ${built.layerDir} (extension ${built.extensionBytes} bytes, instrumentation index.cjs ${built.instrumentationBytes} bytes), ${built.zipPath} (${built.zipBytes} bytes)`,
      );
      // The layer for runtimes without Node.js, when its engine is in the tools cache.
      const { buildPortableLayer } = await import('./build-portable-layer.js');
      const portable = await buildPortableLayer();
      if (portable) {
        console.log(
          `portable layer (${portable.architecture}): ${portable.layerDir} (engine ${portable.engineBytes} bytes, extension ${portable.bundleBytes} bytes), ${portable.zipPath} (${portable.zipBytes} bytes)`,
        );
      }
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
