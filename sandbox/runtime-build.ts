/**
 * Builds the sandbox's Node.js runtime (runtime-client/) into one CommonJS
 * file that plain `node` starts quickly, cached in the temp directory under a
 * hash of its sources, so a process builds it at most once and concurrent
 * builders never see a half-written file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE_DIR = join(__dirname, 'runtime-client');
let built: Promise<string> | undefined;

async function build(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of readdirSync(SOURCE_DIR).sort()) hash.update(file).update(readFileSync(join(SOURCE_DIR, file)));
  const outDir = join(tmpdir(), 'observed-lambda-sandbox');
  const outFile = join(outDir, `runtime-${hash.digest('hex').slice(0, 16)}.cjs`);
  if (existsSync(outFile)) return outFile;
  mkdirSync(outDir, { recursive: true });
  const { build: esbuild } = await import('esbuild');
  const partial = `${outFile}.${process.pid}.${Date.now()}.tmp`;
  await esbuild({
    entryPoints: [join(SOURCE_DIR, 'main.ts')],
    outfile: partial,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
  });
  renameSync(partial, outFile);
  return outFile;
}

/** Path of the built runtime entry point. */
export function runtimeClientPath(): Promise<string> {
  built ??= build().catch((err) => {
    built = undefined;
    throw err;
  });
  return built;
}
