/**
 * Benchmark: the cold-start and warm cost of ObservedFunction's generated entry.
 *
 * The same small handler (bench/cases/cold-start-functions) is bundled with esbuild twice per module
 * format: once through the entry ObservedFunction generates (lib/function-entry.ts: the SDK starts
 * before the handler module is evaluated, every return waits for the flush and the flushed notice),
 * once plain, with the bundling options ObservedFunction passes to NodejsFunction. Each bundle is
 * started repeatedly in a sandbox LambdaEnvironment (no extension: a local endpoint answers every
 * export and the notice at once), round-robin. Cold: the init duration the sandbox reports on the
 * first invoke. Warm: the response time (the sandbox's responseMs: event delivered to the runtime until its
 * response is in), the warm-invocation measure of bench/cases/cold-start.ts.
 *
 * Run: `npm run bench -- observed-function-entry` (appends to bench/HISTORY.md), or alone
 * `npx tsx bench/cases/observed-function-entry.ts [--quick]`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { writeEntry } from '../../lib/function-entry.js';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { runStandalone } from '../standalone.js';

const FUNCTIONS = join(__dirname, 'cold-start-functions');

type Format = 'cjs' | 'esm';

interface Variant {
  readonly entry: 'generated' | 'plain';
  readonly format: Format;
}

interface VariantResult extends Variant {
  readonly bundleKiB: number;
  readonly inits: number[];
  readonly warm: number[];
}

const VARIANTS: readonly Variant[] = [
  { entry: 'plain', format: 'cjs' },
  { entry: 'generated', format: 'cjs' },
  { entry: 'plain', format: 'esm' },
  { entry: 'generated', format: 'esm' },
];

/** Answers OTLP exports (200) and the flushed notice (204) at once, in its own process so the sandbox does not delay it. */
const BACKEND_SOURCE = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(req.url === '/observed/v1/flushed' ? 204 : 200).end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

async function startBlankBackend(): Promise<{ url: string; port: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', BACKEND_SOURCE], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { url: `http://127.0.0.1:${port}`, port, stop: () => child.kill() };
}

/** Bundles one variant into `<workDir>/<format>-<entry>/index.{js,mjs}` with ObservedFunction's options; returns the code directory. */
async function bundle(v: Variant, workDir: string): Promise<{ codeDir: string; bytes: number }> {
  const userEntry = join(FUNCTIONS, v.format, v.format === 'esm' ? 'index.mjs' : 'index.js');
  // The generated entry is written under a scratch project root, as ObservedFunction writes it under the app's.
  const entryPoint = v.entry === 'generated' ? writeEntry(join(workDir, 'project'), userEntry, 'handler') : userEntry;
  const codeDir = join(workDir, `${v.format}-${v.entry}`);
  mkdirSync(codeDir, { recursive: true });
  const outfile = join(codeDir, v.format === 'esm' ? 'index.mjs' : 'index.js');
  await build({
    entryPoints: [entryPoint],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: v.format,
    minify: false,
    logLevel: 'error',
    ...(v.format === 'esm'
      ? {
          mainFields: ['module', 'main'],
          banner: {
            js: "import { createRequire as __observedCreateRequire } from 'node:module'; const require = __observedCreateRequire(import.meta.url);",
          },
        }
      : {}),
  });
  return { codeDir, bytes: statSync(outfile).size };
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function measure(options: { quick?: boolean } = {}): Promise<VariantResult[]> {
  const coldStarts = options.quick ? 3 : 10;
  const warmInvocations = options.quick ? 20 : 100;
  const workDir = mkdtempSync(join(tmpdir(), 'observed-entry-bench-'));
  const backend = await startBlankBackend();
  try {
    const built = await Promise.all(VARIANTS.map((v) => bundle(v, workDir)));
    const results: VariantResult[] = VARIANTS.map((v, i) => ({
      ...v,
      bundleKiB: Math.round(built[i].bytes / 102.4) / 10,
      inits: [],
      warm: [],
    }));
    // Round-robin, so the machine's background load spreads over every variant alike.
    for (let round = 0; round < coldStarts; round++) {
      for (const [i, r] of results.entries()) {
        const env = await LambdaEnvironment.start({
          handler: 'index.handler',
          codeDir: built[i].codeDir,
          functionName: `entry-bench-${r.format}-${r.entry}`,
          memorySizeMb: 512,
          timeoutMs: 10_000,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: backend.url, OBSERVED_RECEIVER_PORT: String(backend.port) },
        });
        try {
          const first = await env.invoke({ round });
          if (first.status !== 'success' || first.initDurationMs === undefined) {
            throw new Error(`${r.format}/${r.entry}: ${first.status} ${JSON.stringify(first.error)}\n${env.stderr()}`);
          }
          r.inits.push(first.initDurationMs);
          if (round === 0) {
            for (let w = 0; w < 10; w++) await env.invoke({ warmup: w });
            for (let w = 0; w < warmInvocations; w++) {
              const res = await env.invoke({ w });
              if (res.status !== 'success') throw new Error(`${r.format}/${r.entry}: warm ${res.status}`);
              r.warm.push(res.responseMs ?? Number.NaN);
            }
          }
        } finally {
          await env.shutdown();
        }
      }
    }
    return results;
  } finally {
    backend.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

export const title = 'ObservedFunction generated entry: cold start';

/** One row per variant; the generated entry's rows also show what it adds to the plain bundle of the same format. */
export function rows(results: readonly VariantResult[]): Record<string, string | number>[] {
  const round1 = (v: number) => Math.round(v * 10) / 10;
  const round3 = (v: number) => Math.round(v * 1000) / 1000;
  return results.map((r) => {
    const plain = results.find((p) => p.entry === 'plain' && p.format === r.format)!;
    const added = (f: (x: VariantResult) => number, round = round1) =>
      r.entry === 'plain' ? '' : round(f(r) - f(plain));
    const initP50 = (x: VariantResult) => quantile(x.inits, 0.5);
    const warmP50 = (x: VariantResult) => quantile(x.warm, 0.5);
    return {
      entry: r.entry,
      handler: r.format,
      'bundle (KiB)': r.bundleKiB,
      'cold starts': r.inits.length,
      'init p50 (ms)': round1(initP50(r)),
      'init min (ms)': round1(Math.min(...r.inits)),
      'added init p50 (ms)': added(initP50),
      'warm invokes': r.warm.length,
      'warm response p50 (ms)': round3(warmP50(r)),
      'added warm response p50 (ms)': added(warmP50, round3),
    };
  });
}

/** The runner's entry. */
export async function run(options: { quick?: boolean } = {}): Promise<Record<string, string | number>[]> {
  return rows(await measure(options));
}

export const notes = `Each bundle is built with esbuild as ObservedFunction builds it (generated entry from \`lib/function-entry.ts\`, or the handler file alone) and started round-robin in the sandbox's Node.js runtime, 512 MB, exporting to a local endpoint that answers at once (no extension). Init: runtime process start until it asks for the first event, as the sandbox reports it on the first invoke. Warm: the response time (event delivered to the runtime until its response is in, to the microsecond), including the SDK's flush and the flushed notice the generated entry sends, over 100 invocations after 10.`;

if (require.main === module) runStandalone(run);
