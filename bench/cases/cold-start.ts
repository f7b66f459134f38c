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
 * Each function runs in the sandbox (the same Node.js runtime and Runtime API for every case) and
 * exports to a local OTLP/HTTP endpoint that answers at once. Cold start: the init duration Lambda
 * reports (process start of the runtime until it asks for the first event). Warm: the invoke
 * duration of platform.report (event delivered until the response is posted, flush included).
 *
 * Run alone: `npx tsx bench/cases/cold-start.ts [--quick]`. The layer is built from the current
 * sources into a temporary directory first.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../scripts/build-instrumentation.js';

const AUTO_REGISTER = require.resolve('@opentelemetry/auto-instrumentations-node/register');
const FUNCTIONS = join(__dirname, 'cold-start-functions');

export interface ColdStartCase {
  readonly name: string;
  readonly format: 'cjs' | 'esm';
}

export interface ColdStartResult extends ColdStartCase {
  readonly coldStarts: number;
  /** Init durations, ms. */
  readonly initMedianMs: number;
  readonly initMinMs: number;
  readonly warmInvocations: number;
  /** Invoke durations of warm invocations, ms. */
  readonly warmMedianMs: number;
  readonly warmP90Ms: number;
}

const CASES: readonly ColdStartCase[] = [
  { name: 'none', format: 'cjs' },
  { name: 'observed', format: 'cjs' },
  { name: 'observed, no auto-instrumentation', format: 'cjs' },
  { name: 'auto-instrumentations-node', format: 'cjs' },
  { name: 'none', format: 'esm' },
  { name: 'observed', format: 'esm' },
];

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
  return LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: join(FUNCTIONS, c.format),
    functionName: `bench-${c.name.replace(/\W+/g, '-')}-${c.format}`,
    memorySizeMb: 512,
    timeoutMs: 10_000,
    env: environmentFor(c, backend, wrapper),
  });
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function run(options: { quick?: boolean } = {}): Promise<ColdStartResult[]> {
  const layer = mkdtempSync(join(tmpdir(), 'cold-start-layer-'));
  await buildInstrumentationLayer(join(layer, 'layer'), join(layer, 'maps'));
  const wrapper = join(layer, 'layer', WRAPPER_NAME);
  const coldStarts = options.quick ? 3 : 15;
  const warmInvocations = options.quick ? 30 : 300;
  const backend = await startBlankBackend();
  const inits = new Map<ColdStartCase, number[]>(CASES.map((c) => [c, []]));
  const warm = new Map<ColdStartCase, number[]>(CASES.map((c) => [c, []]));
  try {
    // Round-robin, so that the machine's background load spreads over every case alike.
    for (let round = 0; round < coldStarts; round++) {
      for (const c of CASES) {
        const env = await startEnvironment(c, backend, wrapper);
        try {
          const first = await env.invoke({ round });
          if (first.status !== 'success' || first.initDurationMs === undefined) {
            throw new Error(`${c.name}/${c.format}: ${first.status} ${JSON.stringify(first.error)}\n${env.stderr()}`);
          }
          inits.get(c)!.push(first.initDurationMs);
          if (round === 0) {
            for (let i = 0; i < 10; i++) await env.invoke({ warmup: i });
            for (let i = 0; i < warmInvocations; i++) warm.get(c)!.push((await env.invoke({ i })).durationMs);
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
  return CASES.map((c) => ({
    ...c,
    coldStarts,
    initMedianMs: quantile(inits.get(c)!, 0.5),
    initMinMs: Math.min(...inits.get(c)!),
    warmInvocations,
    warmMedianMs: quantile(warm.get(c)!, 0.5),
    warmP90Ms: quantile(warm.get(c)!, 0.9),
  }));
}

function table(results: readonly ColdStartResult[]): string {
  const base = (format: string) => results.find((r) => r.name === 'none' && r.format === format)!;
  const rows = results.map((r) => {
    const b = base(r.format);
    const added = (x: number, y: number) => (r.name === 'none' ? '' : `${x - y >= 0 ? '+' : ''}${(x - y).toFixed(1)}`);
    return `| ${r.name} | ${r.format} | ${r.initMedianMs.toFixed(1)} | ${r.initMinMs.toFixed(1)} | ${added(r.initMedianMs, b.initMedianMs)} | ${r.warmMedianMs.toFixed(2)} | ${r.warmP90Ms.toFixed(2)} | ${added(r.warmMedianMs, b.warmMedianMs)} |`;
  });
  return [
    '| instrumentation | handler | init median (ms) | init min (ms) | added init (ms) | warm invoke median (ms) | warm p90 (ms) | added warm (ms) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

if (require.main === module) {
  run({ quick: process.argv.includes('--quick') }).then(
    (results) => {
      console.log(table(results));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
