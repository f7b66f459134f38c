import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'observed-lambda';

let cachedRoot: string | undefined;

/**
 * The root of this package: the compiled library lives in dist/lib and the
 * sources in lib/, so walk up to the package.json that names this package.
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (parsed.name === PACKAGE_NAME) {
        cachedRoot = dir;
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`observed-lambda: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

/** A prebuilt artifact of the package, with a message that says how to build it when it is missing. */
export function packagedPath(relative: string, buildScript: string): string {
  const path = join(packageRoot(), relative);
  if (!existsSync(path)) {
    throw new Error(
      `observed-lambda: ${relative} is missing from the package. In a checkout of the repository, run \`npm run ${buildScript}\` first.`,
    );
  }
  return path;
}

/**
 * What the layer must hold: the extension every construct attaches, and the exec wrapper (with the files it
 * loads, and the OpenTelemetry API package it serves to functions) that `observe()` and `ObserveFunctions`
 * point functions at through AWS_LAMBDA_EXEC_WRAPPER.
 */
export const LAYER_PARTS = [
  'extensions/observed-lambda',
  'observed-instrument',
  'observed-instrument.d/preload.cjs',
  'observed-instrument.d/index.cjs',
  'observed-instrument.d/esm-entry.mjs',
  'nodejs/node_modules/@opentelemetry/api/index.js',
];

/**
 * The prebuilt layer folder (dist/layer of `root`), refused when it lacks a part: a folder built with the
 * extension alone would deploy functions whose exec wrapper does not exist.
 */
export function packagedLayer(root = packageRoot()): string {
  const dir = join(root, 'dist', 'layer');
  const missing = existsSync(dir) ? LAYER_PARTS.filter((part) => !existsSync(join(dir, part))) : ['everything'];
  if (missing.length > 0) {
    throw new Error(
      `observed-lambda: the layer folder ${dir} lacks ${missing.join(', ')}. In a checkout of the repository, run \`npm run build:layer\` (it builds the extension and the exec wrapper together).`,
    );
  }
  return dir;
}

/**
 * The prebuilt layer for runtimes without Node.js (dist/layer-portable of `root`): the extension with the
 * engine it runs on, so the function's runtime needs no Node.js.
 */
export function packagedPortableLayer(root = packageRoot()): string {
  const dir = join(root, 'dist', 'layer-portable');
  if (!existsSync(join(dir, 'extensions', 'observed-lambda'))) {
    throw new Error(
      `observed-lambda: the layer folder ${dir} for runtimes without Node.js (Python, Java, .NET, Ruby, provided.al2023) is missing. In a checkout of the repository, run \`npm run build:layer\` (it builds the extension's engine layer when the engine is in the tools cache: bash scripts/install/llrt.sh).`,
    );
  }
  return dir;
}

/** ELF e_machine values of Lambda's two architectures. */
const ELF_MACHINES: Record<number, 'x86_64' | 'arm64'> = { 62: 'x86_64', 183: 'arm64' };

/** The native executables of a layer folder (ELF files), with their headers' first 20 bytes. */
function elfFiles(dir: string): { path: string; header: Buffer }[] {
  const found: { path: string; header: Buffer }[] = [];
  for (const file of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!file.isFile()) continue;
    const path = join(file.parentPath, file.name);
    const header = Buffer.alloc(20);
    const fd = openSync(path, 'r');
    const read = readSync(fd, header, 0, 20, 0);
    closeSync(fd);
    if (read === 20 && header.readUInt32BE(0) === 0x7f454c46) found.push({ path, header });
  }
  return found;
}

/**
 * The newest glibc 2.x minor version the native executables of a layer folder ask for (their GLIBC_2.x
 * symbol versions), or undefined when none does.
 */
export function requiredGlibcMinor(dir: string): number | undefined {
  let newest: number | undefined;
  for (const { path } of elfFiles(dir)) {
    for (const match of readFileSync(path)
      .toString('latin1')
      .matchAll(/GLIBC_2\.(\d+)/g)) {
      newest = Math.max(newest ?? 0, Number(match[1]));
    }
  }
  return newest;
}

/**
 * The architectures a layer folder can serve: those of the native executables in it, or both when it
 * holds none.
 */
export function layerArchitectures(dir: string): ('x86_64' | 'arm64')[] {
  const found = new Set<'x86_64' | 'arm64'>();
  for (const { header } of elfFiles(dir)) {
    const machine = ELF_MACHINES[header.readUInt16LE(18)];
    if (machine) found.add(machine);
  }
  return found.size === 0 ? ['x86_64', 'arm64'] : [...found].sort();
}
