/**
 * Source trees for `node-layer-vs`: another revision checked out in a temporary git worktree outside the
 * repository, and each tree's Node.js layer and remote write encoder built by that tree's own code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

export const ROOT = join(__dirname, '..', '..');

export interface Revision {
  /** The tree's directory (the worktree, or this checkout). */
  dir: string;
  sha: string;
  short: string;
  subject: string;
  /** How its node_modules came to be. */
  dependencies: string;
}

function git(args: string[], cwd = ROOT): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function describe(rev: string, dir: string, dependencies: string): Revision {
  const sha = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  return { dir, sha, short: sha.slice(0, 7), subject: git(['log', '-1', '--format=%s', sha]), dependencies };
}

/** What the layer and the encoder are built from: changes elsewhere (docs, results) do not make a tree differ. */
const BUILT_FROM = ['extension-src', 'instrumentation-src', 'scripts', 'package.json', 'package-lock.json'];

/** This checkout, as built now (its uncommitted changes to what the layer is built from, if any, included and said). */
export function currentCheckout(): Revision {
  const dirty = git(['status', '--porcelain', '--', ...BUILT_FROM]) !== '';
  const head = describe('HEAD', ROOT, 'this checkout');
  return dirty
    ? { ...head, short: `${head.short}+changes`, subject: `${head.subject} (with uncommitted changes)` }
    : head;
}

/**
 * Checks `rev` out into a new worktree under the system's temporary directory. Its node_modules is this
 * checkout's (a symlink) when the lockfiles are the same, else installed there by `npm ci`. `remove()` deletes it.
 */
export function checkoutRevision(rev: string): Revision & { remove(): void } {
  const sha = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  const dir = join(mkdtempSync(join(tmpdir(), `observed-lambda-${sha.slice(0, 7)}-`)), 'tree');
  git(['worktree', 'add', '--detach', dir, sha]);
  const remove = () => {
    try {
      git(['worktree', 'remove', '--force', dir]);
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
      git(['worktree', 'prune']);
    }
  };
  try {
    const sameLock =
      existsSync(join(dir, 'package-lock.json')) &&
      readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    if (sameLock) {
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    } else {
      const ci = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: dir,
        stdio: 'inherit',
      });
      if (ci.status !== 0) throw new Error(`npm ci in ${dir} exited ${ci.status}`);
    }
    return {
      ...describe(
        sha,
        dir,
        sameLock ? "this checkout's (same package-lock.json)" : 'npm ci (its own package-lock.json)',
      ),
      remove,
    };
  } catch (error) {
    remove();
    throw error;
  }
}

/**
 * The tree's Node.js layer (extension and instrumentation, `buildFullLayer` of its scripts/build-layer.ts, what its
 * `npm run build:layer` builds) into `<outDir>/layer`, by the tree's own code and tsx.
 */
export function buildTreeLayer(tree: Revision, outDir: string): { layerDir: string; zipBytes: number } {
  const script =
    "require(process.argv[1]).buildFullLayer(process.argv[2]).then((b) => console.log('@@built@@' + JSON.stringify(b)), " +
    '(e) => { console.error(e); process.exit(1); })';
  const result = spawnSync(
    join(tree.dir, 'node_modules', '.bin', 'tsx'),
    ['-e', script, join(tree.dir, 'scripts', 'build-layer.ts'), outDir],
    { cwd: tree.dir, encoding: 'utf8' },
  );
  const line = result.stdout.split('\n').find((l) => l.startsWith('@@built@@'));
  if (result.status !== 0 || !line) {
    throw new Error(`building the layer of ${tree.short} exited ${result.status}:\n${result.stderr.slice(-2000)}`);
  }
  const built = JSON.parse(line.slice('@@built@@'.length)) as { layerDir: string; zipBytes: number };
  return { layerDir: built.layerDir, zipBytes: built.zipBytes };
}

/**
 * The path of the `encode` row of bench/cases/remote-write.ts (the same in both trees), written against each tree's
 * own modules: one OTLP protobuf request at a time decoded, translated, cut into requests, encoded and compressed.
 */
const ENCODE_ENTRY = `
import { parseRemoteWriteOptions } from './extension-src/exporters/prometheus-remote-write/config';
import { RemoteWriteExporter } from './extension-src/exporters/prometheus-remote-write/exporter';
import { decodeRequest } from './extension-src/otlp/proto';
import { PrometheusTranslator } from './extension-src/translate/translator';

const parsed = parseRemoteWriteOptions({
  OBSERVED_REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write',
  OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '2000',
});
if (!parsed.options) throw new Error('remote write options refused');
const options = parsed.options;

export function encodeSamples(payloads: Uint8Array[]): number {
  // No logger given: the default of each tree (their logger types differ); valid input logs nothing.
  const exporter = new RemoteWriteExporter(options, {});
  const translator = new PrometheusTranslator(options.translate);
  let samples = 0;
  for (const bytes of payloads) {
    const translated = translator.translate(decodeRequest('metrics', bytes));
    const series = translated.map((s) => ({ key: s.key, labels: s.labels, family: s.family, points: [s] }));
    for (const r of exporter.buildRequests(series)) samples += r.samples;
  }
  return samples;
}
`;

/** Bundles ENCODE_ENTRY against the tree's modules with esbuild (as the layer is built) into `outFile`. */
export async function bundleTreeEncoder(tree: Revision, outFile: string): Promise<void> {
  await build({
    stdin: { contents: ENCODE_ENTRY, resolveDir: tree.dir, loader: 'ts', sourcefile: 'encode-entry.ts' },
    outfile: outFile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
}

/**
 * Run by `node -e` in a fresh process: loads a bundle of ENCODE_ENTRY and the requests of a file (each a 32-bit
 * little-endian length, then the bytes), runs them once to warm up, then `passes` times; prints samples per
 * CPU-second of each pass as JSON.
 */
const ENCODE_TIMER = `
const { readFileSync } = require('node:fs');
const [bundle, requestsFile, passes] = process.argv.slice(1);
const file = readFileSync(requestsFile);
const payloads = [];
for (let at = 0; at < file.length; ) {
  const length = file.readUInt32LE(at);
  payloads.push(new Uint8Array(file.subarray(at + 4, at + 4 + length)));
  at += 4 + length;
}
const { encodeSamples } = require(bundle);
encodeSamples(payloads);
const rates = [];
for (let i = 0; i < Number(passes); i++) {
  const cpu = process.cpuUsage();
  const samples = encodeSamples(payloads);
  const used = process.cpuUsage(cpu);
  rates.push(samples / ((used.user + used.system) / 1e6));
}
console.log(JSON.stringify(rates));
`;

/** Writes requests in the file format ENCODE_TIMER reads. */
export function writeRequests(file: string, payloads: Uint8Array[]): void {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(p.length);
    parts.push(length, Buffer.from(p));
  }
  writeFileSync(file, Buffer.concat(parts));
}

/** Samples per CPU-second of each pass of one fresh process running the bundled encoder over the requests. */
export function timeEncoder(bundle: string, requestsFile: string, passes: number): number[] {
  const result = spawnSync(process.execPath, ['-e', ENCODE_TIMER, bundle, requestsFile, String(passes)], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the encoder ${bundle} exited ${result.status}:\n${result.stderr}`);
  return JSON.parse(result.stdout) as number[];
}
