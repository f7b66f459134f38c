/**
 * Builds the in-function instrumentation into the layer, next to the extension:
 *   dist/layer/observed-instrument            the exec wrapper (POSIX sh)
 *   dist/layer/observed-instrument.d/
 *     index.cjs      the instrumentation (OpenTelemetry SDK, exporters, propagators,
 *                    bundled auto-instrumentations, wrapHandler), minified
 *     preload.cjs    what the exec wrapper preloads: index.cjs applied to _HANDLER
 *     esm-entry.mjs  the handler module for ES module handlers where Node.js has no in-thread module hooks
 *   dist/layer/nodejs/node_modules/@opentelemetry/api/
 *                  the OpenTelemetry API for functions that require it without bundling it (Lambda puts
 *                  /opt/nodejs/node_modules on NODE_PATH): index.cjs's own copy of the API, re-exported,
 *                  so the function's calls reach the wrapper's SDK
 * and, for ObservedFunction's generated entry (which bundles it into the function):
 *   dist/instrumentation/index.js   the same module as index.cjs
 * Source maps go to dist/sourcemaps. Only these paths are replaced, so the
 * extension's build output in dist/layer stays.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Plugin } from 'esbuild';

const root = join(__dirname, '..');
const source = join(root, 'instrumentation-src');

/** The exec wrapper's file name in the layer (/opt/observed-instrument). */
export const WRAPPER_NAME = 'observed-instrument';
/** Where the layer's `@opentelemetry/api` package is, inside the layer. */
export const API_PACKAGE_DIR = join('nodejs', 'node_modules', '@opentelemetry', 'api');
const BUNDLE_FILES = ['index.cjs', 'preload.cjs'] as const;

/**
 * One copy of each @opentelemetry package: packages pin slightly different patch versions and npm
 * nests the duplicates; the top-level copy serves every importer.
 */
const singleOpenTelemetryCopy: Plugin = {
  name: 'single-opentelemetry-copy',
  setup(b) {
    b.onResolve({ filter: /^@opentelemetry\// }, async (args) => {
      if (args.pluginData?.fromRoot) return undefined;
      return b.resolve(args.path, { kind: args.kind, resolveDir: root, pluginData: { fromRoot: true } });
    });
  },
};

/**
 * The CommonJS instrumentations `require` the semantic conventions package whole: 660 constants
 * (2,600 from /incubating) evaluated at start-up for the few dozen they read. Each such require gets
 * a module that re-exports only the names its importer mentions, from the packages' ES module build,
 * so esbuild keeps just those.
 */
const semanticConventionsSubset: Plugin = {
  name: 'semantic-conventions-subset',
  setup(b) {
    const exportNames = new Map<string, Set<string>>();
    const namesOf = (entry: string) => {
      let names = exportNames.get(entry);
      if (!names) {
        names = new Set(Object.keys(require(entry) as object));
        exportNames.set(entry, names);
      }
      return names;
    };
    b.onResolve({ filter: /^@opentelemetry\/semantic-conventions(\/incubating)?$/ }, (args) => {
      if (args.kind !== 'require-call') return undefined;
      return { path: `${args.path}|${args.importer}`, namespace: 'semconv-subset', pluginData: { entry: args.path } };
    });
    b.onLoad({ filter: /.*/, namespace: 'semconv-subset' }, async (args) => {
      const entry = args.pluginData.entry as string;
      const importer = args.path.slice(args.path.indexOf('|') + 1);
      const known = namesOf(entry);
      const used = [...new Set(readFileSync(importer, 'utf8').match(/\b[A-Z][A-Z0-9_]{2,}\b/g) ?? [])].filter((n) =>
        known.has(n),
      );
      const target = await b.resolve(entry, {
        kind: 'import-statement',
        resolveDir: root,
        pluginData: { fromRoot: true },
      });
      return {
        contents: used.length ? `export { ${used.join(', ')} } from ${JSON.stringify(target.path)};` : 'export {};',
        loader: 'js',
        resolveDir: root,
      };
    });
  },
};

/**
 * Dependencies of @opentelemetry/instrumentation that do nothing here: `debug` (require-in-the-middle's
 * logging, off unless DEBUG is set; it loads tty and supports-color) and import-in-the-middle, whose hooks
 * only act under its own module loader, which this layer does not register (ES module handlers get the
 * facade instead). Each becomes a stub with the same surface.
 */
const stubUnusedDependencies: Plugin = {
  name: 'stub-unused-dependencies',
  setup(b) {
    const stubs: Record<string, string> = {
      debug:
        'module.exports = function createDebug() { const log = function () {}; log.enabled = false; log.extend = createDebug; return log; };',
      'import-in-the-middle': 'export class Hook { unhook() {} }',
    };
    b.onResolve({ filter: /^(debug|import-in-the-middle)$/ }, (args) => ({ path: args.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: stubs[args.path], loader: 'js' }));
  },
};

/** The plugins of the index.cjs build (exported for profiling builds). */
export const INDEX_PLUGINS: Plugin[] = [semanticConventionsSubset, stubUnusedDependencies, singleOpenTelemetryCopy];

/** preload.cjs loads the instrumentation from index.cjs instead of carrying a second copy. */
const preloadUsesIndex: Plugin = {
  name: 'preload-uses-index',
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.js$/ }, () => ({ path: './index.cjs', external: true }));
  },
};

const common: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  // The packages' ES module builds let esbuild drop what is not used.
  mainFields: ['module', 'main'],
  sourcemap: 'external',
  legalComments: 'none',
  logLevel: 'warning',
};

/**
 * Writes the exec wrapper and its bundle into `layerDir` (replacing only those) and the source maps
 * into `mapsDir`. Returns the path of index.cjs.
 */
export async function buildInstrumentationLayer(layerDir: string, mapsDir: string): Promise<string> {
  const wrapperFile = join(layerDir, WRAPPER_NAME);
  const bundleDir = join(layerDir, `${WRAPPER_NAME}.d`);
  rmSync(bundleDir, { recursive: true, force: true });
  rmSync(wrapperFile, { force: true });
  mkdirSync(bundleDir, { recursive: true });
  mkdirSync(mapsDir, { recursive: true });

  await Promise.all([
    build({
      ...common,
      entryPoints: [join(source, 'index.ts')],
      outfile: join(bundleDir, 'index.cjs'),
      format: 'cjs',
      plugins: INDEX_PLUGINS,
    }),
    build({
      ...common,
      entryPoints: [join(source, 'preload.ts')],
      outfile: join(bundleDir, 'preload.cjs'),
      format: 'cjs',
      plugins: [preloadUsesIndex],
    }),
  ]);
  for (const file of BUNDLE_FILES) renameSync(join(bundleDir, `${file}.map`), join(mapsDir, `${file}.map`));
  copyFileSync(join(source, 'loader', 'esm-entry.mjs'), join(bundleDir, 'esm-entry.mjs'));
  copyFileSync(join(source, 'exec-wrapper.sh'), wrapperFile);
  chmodSync(wrapperFile, 0o755);
  writeApiPackage(join(layerDir, API_PACKAGE_DIR), relative(join(layerDir, API_PACKAGE_DIR), bundleDir));
  return join(bundleDir, 'index.cjs');
}

/** The layer's `@opentelemetry/api`: a package whose main module is the instrumentation's API copy. */
function writeApiPackage(dir: string, bundleDirFromPackage: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const { version } = JSON.parse(
    readFileSync(join(root, 'node_modules', '@opentelemetry', 'api', 'package.json'), 'utf8'),
  ) as { version: string };
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: '@opentelemetry/api', version, main: 'index.js', description: 'observed-lambda: the exec wrapper instrumentation’s copy of the OpenTelemetry API' }, null, 2)}\n`,
  );
  const target = `${bundleDirFromPackage.split(sep).join('/')}/index.cjs`;
  writeFileSync(
    join(dir, 'index.js'),
    `'use strict';\n// The exec wrapper's own copy of the OpenTelemetry API, so that calls reach its SDK.\nmodule.exports = require(${JSON.stringify(target)}).openTelemetryApi;\n`,
  );
}

async function main(): Promise<void> {
  const index = await buildInstrumentationLayer(
    join(root, 'dist', 'layer'),
    join(root, 'dist', 'sourcemaps', WRAPPER_NAME),
  );
  const moduleFile = join(root, 'dist', 'instrumentation', 'index.js');
  mkdirSync(dirname(moduleFile), { recursive: true });
  copyFileSync(index, moduleFile);
  const size = statSync(index).size;
  const gzipped = gzipSync(readFileSync(index)).length;
  console.log(`instrumentation: index.cjs ${(size / 1024).toFixed(0)} KB (${(gzipped / 1024).toFixed(0)} KB gzip)`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
