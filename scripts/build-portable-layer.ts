/**
 * Builds the layer for runtimes without Node.js (Python, Java, .NET, Ruby,
 * OS-only): the extension runs on LLRT, AWS's low-latency JavaScript engine
 * for Lambda, shipped in the layer, and never looks for a node binary.
 *
 *   dist/layer-portable/extensions/observed-lambda   launcher (/bin/sh: exec the engine on the bundle)
 *   dist/layer-portable/observed-lambda/llrt          the engine (scripts/install/llrt.sh)
 *   dist/layer-portable/observed-lambda/extension.lrt the extension bundle (the same source as dist/layer/),
 *                                                     compiled to LLRT bytecode (`llrt compile`): ready in a
 *                                                     quarter of the time the engine takes to parse the source
 *   dist/layer-portable/observed-lambda/otlp-proto.lrt otlp/proto.ts (the generated protobufjs OTLP codec, 45 %
 *                                                     of the source) in bytecode of its own, loaded with `require`
 *                                                     on first use: only the exporters that decode OTLP (remote
 *                                                     write, Pushgateway, OpenSearch) need it, and the engine reads
 *                                                     a bytecode file whole at start (3.5 ms CPU, 3.5 MB RSS for it)
 *   dist/layer-portable.zip                           deterministic zip of the directory
 *
 * The engine is the host's architecture (x86_64 here). arm64 needs an LLRT built for aarch64-unknown-linux-gnu:
 * see README ("Engines") for why this machine cannot and what a release build does.
 *
 * Without the engine in the tools cache the portable layer is skipped with the reason (fails under CI=true).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { toolsCacheDir } from '../test/support/tools.js';
import { layerEntries } from './build-layer.js';
import { createZip } from './zip.js';

const root = join(__dirname, '..');

export const LLRT_VERSION = '0.8.1-beta';
/** scripts/install/llrt.sh's folder in the tools cache: its build loads on Amazon Linux 2023's glibc 2.34. */
export const LLRT_TOOL_DIR = `llrt-${LLRT_VERSION}-opt-s-qjs3-glibc2.34`;
export const EXTENSION_NAME = 'observed-lambda';

/** The LLRT binary scripts/install/llrt.sh builds, if present. */
export function llrtBinary(): string | undefined {
  const path = join(toolsCacheDir(), LLRT_TOOL_DIR, 'bin', 'llrt');
  return existsSync(path) ? path : undefined;
}

/**
 * Starts the engine on the bundle. Paths are relative to the launcher, so the layer works wherever it is
 * mounted (/opt in Lambda, a directory in the sandbox); the extension's name comes from the launcher's file name.
 */
export const LAUNCHER = `#!/bin/sh
# observed-lambda on its own JavaScript engine (LLRT): the function's runtime needs no Node.js.
dir=\${0%/*}/../${EXTENSION_NAME}
export OBSERVED_EXTENSION_PATH="$0"
exec "$dir/llrt" "$dir/extension.lrt"
`;

export interface BuiltPortableLayer {
  readonly layerDir: string;
  readonly zipPath: string;
  readonly zipBytes: number;
  readonly unzippedBytes: number;
  readonly engineBytes: number;
  readonly bundleBytes: number;
  readonly architecture: string;
}

/** What both LLRT bundles share. */
const LLRT_BUNDLE: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  // QuickJS implements ES2023; nothing needs lowering.
  target: 'es2023',
  legalComments: 'none',
  logLevel: 'warning',
};

/** The OTLP protobuf codec, loaded apart (see the header); its file name beside extension.lrt. */
const OTLP_PROTO_SOURCE = join(root, 'extension-src', 'otlp', 'proto.ts');
export const OTLP_PROTO_CHUNK = 'otlp-proto.lrt';

/**
 * Stands in for otlp/proto.ts in the main bundle: each function loads the codec's bytecode on its first call.
 * A file's `require` gives an ES module's exports; the path is the engine's own script's folder (the launcher
 * names it, absolute or relative to the working directory).
 */
const LAZY_OTLP_PROTO = `
let codec;
function load() {
  if (!codec) {
    const script = process.argv[1];
    const dir = script.slice(0, script.lastIndexOf('/') + 1) || './';
    codec = require((dir.startsWith('/') ? '' : process.cwd() + '/') + dir + ${JSON.stringify(OTLP_PROTO_CHUNK)});
  }
  return codec;
}
export function decodeRequest(signal, bytes) { return load().decodeRequest(signal, bytes); }
export function encodeRequest(signal, request) { return load().encodeRequest(signal, request); }
export function encodeResponse(signal, response) { return load().encodeResponse(signal, response); }
`;

const lazyOtlpProto: Plugin = {
  name: 'lazy-otlp-proto',
  setup(b) {
    b.onLoad({ filter: /[\\/]otlp[\\/]proto\.ts$/ }, (args) =>
      args.path === OTLP_PROTO_SOURCE ? { contents: LAZY_OTLP_PROTO, loader: 'js' } : undefined,
    );
  },
};

/**
 * Bundles the extension for LLRT into `file` (CommonJS, no shebang: the launcher names the engine), and the OTLP
 * codec into `codecFile` (an ES module), which the bundle loads from its own folder when it first needs it.
 */
export async function bundleForLlrt(file: string, codecFile: string): Promise<void> {
  await build({
    ...LLRT_BUNDLE,
    entryPoints: [join(root, 'extension-src', 'main.ts')],
    outfile: file,
    format: 'cjs',
    plugins: [lazyOtlpProto],
  });
  await build({ ...LLRT_BUNDLE, entryPoints: [OTLP_PROTO_SOURCE], outfile: codecFile, format: 'esm' });
}

/** Builds `<outDir>/layer-portable` and its zip; undefined (with the reason printed) when the engine is missing. */
export async function buildPortableLayer(outDir = join(root, 'dist')): Promise<BuiltPortableLayer | undefined> {
  const engine = llrtBinary();
  if (!engine) {
    const message = `portable layer skipped: LLRT ${LLRT_VERSION} is not in ${toolsCacheDir()}; build it with: bash scripts/install/llrt.sh (about 25 minutes)`;
    if (process.env.CI === 'true') throw new Error(message);
    console.warn(`WARNING: ${message}`);
    return undefined;
  }
  const layerDir = join(outDir, 'layer-portable');
  const engineDir = join(layerDir, EXTENSION_NAME);
  const launcher = join(layerDir, 'extensions', EXTENSION_NAME);
  rmSync(layerDir, { recursive: true, force: true });
  mkdirSync(join(layerDir, 'extensions'), { recursive: true });
  mkdirSync(engineDir, { recursive: true });
  copyFileSync(engine, join(engineDir, 'llrt'));
  chmodSync(join(engineDir, 'llrt'), 0o755);
  // The source is compiled by the engine itself, outside the layer; only the bytecode ships.
  const source = join(outDir, 'layer-portable-extension.js');
  const codecSource = join(outDir, 'layer-portable-otlp-proto.js');
  await bundleForLlrt(source, codecSource);
  execFileSync(engine, ['compile', source, join(engineDir, 'extension.lrt')], { stdio: 'inherit' });
  execFileSync(engine, ['compile', codecSource, join(engineDir, OTLP_PROTO_CHUNK)], { stdio: 'inherit' });
  writeFileSync(launcher, LAUNCHER);
  chmodSync(launcher, 0o755);
  const entries = layerEntries(layerDir);
  const zip = createZip(entries);
  const zipPath = `${layerDir}.zip`;
  writeFileSync(zipPath, zip);
  return {
    layerDir,
    zipPath,
    zipBytes: zip.length,
    unzippedBytes: entries.reduce((sum, e) => sum + (e.data?.length ?? 0), 0),
    engineBytes: statSync(engine).size,
    bundleBytes: statSync(join(engineDir, 'extension.lrt')).size,
    architecture: arch() === 'arm64' ? 'arm64' : 'x86_64',
  };
}

if (require.main === module) {
  buildPortableLayer().then(
    (built) => {
      if (built) {
        console.log(
          `portable layer (${built.architecture}): ${built.layerDir} (engine ${built.engineBytes} bytes, extension ${built.bundleBytes} bytes), ${built.zipPath} (${built.zipBytes} bytes)`,
        );
      }
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
