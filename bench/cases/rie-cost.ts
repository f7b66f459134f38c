/**
 * Benchmark: what the layer (extension plus exec wrapper) costs a CommonJS function as the caller sees it,
 * under AWS's Runtime Interface Emulator with aws-lambda-ric and in the project's sandbox, side by side.
 *   - cold: from the caller's first request to its answer (RIE starts the environment on that request; for
 *     the sandbox, LambdaEnvironment.start() plus the first invoke), one fresh environment per run;
 *   - warm: p50 of the following invocations' round trips, as the caller waits for them.
 * RIE answers only once every extension is back in /next, so its round trip includes what Lambda bills as the
 * extensions' post-runtime time; the sandbox's invoke() resolves once the environment is frozen, the same
 * point. RIE's own REPORT lines give its Init Duration and Duration. Needs root (namespaces) and the tools
 * from scripts/install/rie.sh and scripts/install/aws-lambda-ric.sh; the case says so when they are missing.
 *
 * Run: `npm run bench -- rie-cost` (appends to bench/HISTORY.md), or `npx tsx bench/cases/rie-cost.ts [--quick]`.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../scripts/build-instrumentation.js';
import { namespacesUnavailable, runScenario } from '../../test/rie/namespace.js';
import { OtlpSink } from '../../test/support/otlp-sink.js';
import { findCachedTool } from '../../test/support/tools.js';
import { runStandalone } from '../standalone.js';

const RIE = 'rie-v0.0.0-20261030222936-bef5c4ba774d/aws-lambda-rie';
const RIC = 'aws-lambda-ric-3.3.0/node_modules/aws-lambda-ric';
const FUNCTION = join(__dirname, '..', '..', 'test', 'instrumentation', 'fixtures', 'functions', 'cjs');

type Row = Record<string, string | number>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)];
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function range(values: number[], digits = 1): string {
  return `${round(Math.min(...values), digits)} to ${round(Math.max(...values), digits)}`;
}

interface RunFigures {
  coldMs: number;
  warmP50Ms: number;
  initMs?: number;
  firstDurationMs?: number;
  warmDurationP50Ms?: number;
}

/** RIE's REPORT lines: Init Duration (first only) and Duration of every invocation, in order. */
function reports(output: string): { initMs?: number; durations: number[] } {
  const durations = [
    ...output.matchAll(/REPORT RequestId: \S+\s+(?:Init Duration: ([\d.]+) ms\s+)?Duration: ([\d.]+) ms/g),
  ];
  return {
    initMs: durations.find((m) => m[1])?.[1] ? Number(durations.find((m) => m[1])![1]) : undefined,
    durations: durations.map((m) => Number(m[2])),
  };
}

async function underRie(
  layerDir: string,
  wrapper: boolean,
  warm: number,
  tools: { rie: string; ric: string },
  functionExportsToSink = false,
) {
  const result = await runScenario(layerDir, {
    ...tools,
    codeDir: FUNCTION,
    handler: 'index.handler',
    entry: 'managed',
    wrapper,
    functionExportsToSink,
    payloads: Array.from({ length: warm + 1 }, (_, i) => ({ order: i })),
  });
  if (result.invocations.some((i) => i.status !== 200)) throw new Error(`RIE run failed: ${result.output}`);
  const times = result.invocations.map((i) => i.ms);
  const report = reports(result.output);
  return {
    coldMs: times[0],
    warmP50Ms: median(times.slice(1)),
    initMs: report.initMs,
    firstDurationMs: report.durations[0],
    warmDurationP50Ms: median(report.durations.slice(1)),
  } satisfies RunFigures;
}

async function inSandbox(layerDir: string | undefined, warm: number, sinkUrl: string): Promise<RunFigures> {
  const began = performance.now();
  const env = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: FUNCTION,
    layers: layerDir ? [layerDir] : [],
    timeoutMs: 10_000,
    env: layerDir
      ? { AWS_LAMBDA_EXEC_WRAPPER: join(layerDir, WRAPPER_NAME), OBSERVED_OTLP_ENDPOINT: sinkUrl }
      : { OTEL_SDK_DISABLED: 'true' },
  });
  try {
    const first = await env.invoke({ order: 0 });
    const coldMs = performance.now() - began;
    const times: number[] = [];
    const durations: number[] = [];
    for (let i = 1; i <= warm; i++) {
      const start = performance.now();
      const result = await env.invoke({ order: i });
      times.push(performance.now() - start);
      durations.push(result.durationMs);
    }
    return {
      coldMs,
      warmP50Ms: median(times),
      initMs: first.initDurationMs,
      firstDurationMs: first.durationMs,
      warmDurationP50Ms: median(durations),
    };
  } finally {
    await env.shutdown();
  }
}

function rows(environment: string, variant: string, runs: RunFigures[]): Row {
  const pick = (key: keyof RunFigures) => runs.map((r) => r[key]).filter((v): v is number => v !== undefined);
  return {
    environment,
    variant,
    runs: runs.length,
    'cold median ms': round(median(pick('coldMs'))),
    'cold range ms': range(pick('coldMs')),
    'warm p50 ms (median of runs)': round(median(pick('warmP50Ms')), 2),
    'warm p50 range ms': range(pick('warmP50Ms'), 2),
    'init duration median ms': round(median(pick('initMs'))),
    'first invoke duration median ms': round(median(pick('firstDurationMs'))),
    'warm duration p50 ms': round(median(pick('warmDurationP50Ms')), 2),
  };
}

export const title = 'Layer cost under RIE with aws-lambda-ric and in the sandbox (CommonJS, caller round trip)';

export const notes = `Where the two environments differ, and why:
- RIE starts the environment on the first request and reports only the time its init call takes to return
  (\`Init Duration\` near 0): the runtime's and the extensions' start-up land in the first invocation's
  \`Duration\`. The sandbox reports them as the init duration. Compare cold round trips, not init durations.
- RIE answers the caller once every extension is back in /next: its warm round trip includes the extension's
  end-of-invocation flush (what Lambda bills as post-runtime time). The sandbox's invoke() resolves at the same
  point (the environment frozen), so both warm columns hold the same work; RIE adds its HTTP front end and
  its reservation of the environment per request.
- Under RIE there is no Telemetry API: the extension subscribes, is refused, and only the function's flushed
  notice ends an invocation; in the sandbox it also receives and translates the platform events.
- The layer's parts apart (RIE rows "extension only" and "exec wrapper only"): the cold difference is mostly
  the extension's start-up, which RIE makes the caller wait for on the first request (Lambda runs it in the
  init phase, before any request); without the wrapper the extension also waits up to 1 s on the first
  invocation for a flushed notice that never comes (then never again), which is why "extension only" is the
  slowest cold row. The warm difference is mostly the wrapper's SDK flush and notice; the extension adds its
  end-of-invocation export before /next, which RIE puts in the caller's round trip.
- The sandbox's OTLP sink runs in the benchmark's own process, beside the sandbox's Runtime API, so the
  sandbox's layer rows also pay for receiving the exports on that event loop; RIE's run keeps the sink in
  another process.
- aws-lambda-ric loads a native addon and runs through its own C++ HTTP client; the sandbox's runtime client is
  plain Node.js. That difference is in the "no layer" rows of both environments alike.`;

export async function run(options: { quick?: boolean } = {}): Promise<Row[]> {
  const runs = options.quick ? 2 : 5;
  const warm = options.quick ? 20 : 60;
  const rie = findCachedTool(RIE);
  const ric = findCachedTool(RIC);
  const why =
    !rie || !ric ? 'run scripts/install/rie.sh and scripts/install/aws-lambda-ric.sh' : namespacesUnavailable();
  const out = mkdtempSync(join(tmpdir(), 'observed-rie-bench-'));
  const empty = mkdtempSync(join(tmpdir(), 'observed-rie-empty-'));
  const sink = await new OtlpSink().start();
  try {
    const { layerDir } = await buildLayer(out);
    await buildInstrumentationLayer(layerDir, join(out, 'maps'));
    const table: Row[] = [];
    // The layer's two parts apart: the extension alone (no wrapper), the exec wrapper alone (no extensions/,
    // the SDK exporting straight to the sink).
    const wrapperOnly = join(out, 'wrapper-only');
    cpSync(layerDir, wrapperOnly, { recursive: true });
    rmSync(join(wrapperOnly, 'extensions'), { recursive: true, force: true });
    const figures: Record<string, RunFigures[]> = {
      rieNone: [],
      rieLayer: [],
      rieExtension: [],
      rieWrapper: [],
      sandboxNone: [],
      sandboxLayer: [],
    };
    // Alternate the variants, so a slower stretch of the machine hits both.
    for (let i = 0; i < runs; i++) {
      if (!why) {
        figures.rieNone.push(await underRie(empty, false, warm, { rie: rie!, ric: ric! }));
        figures.rieLayer.push(await underRie(layerDir, true, warm, { rie: rie!, ric: ric! }));
        figures.rieExtension.push(await underRie(layerDir, false, warm, { rie: rie!, ric: ric! }));
        figures.rieWrapper.push(await underRie(wrapperOnly, true, warm, { rie: rie!, ric: ric! }, true));
      }
      figures.sandboxNone.push(await inSandbox(undefined, warm, sink.url));
      figures.sandboxLayer.push(await inSandbox(layerDir, warm, sink.url));
    }
    if (why) table.push({ environment: 'RIE', variant: `skipped: ${why}` });
    else {
      table.push(rows('RIE + aws-lambda-ric', 'no layer', figures.rieNone));
      table.push(rows('RIE + aws-lambda-ric', 'layer + exec wrapper', figures.rieLayer));
      table.push(rows('RIE + aws-lambda-ric', 'extension only (no wrapper)', figures.rieExtension));
      table.push(rows('RIE + aws-lambda-ric', 'exec wrapper only (SDK to the sink)', figures.rieWrapper));
    }
    table.push(rows('sandbox', 'no layer', figures.sandboxNone));
    table.push(rows('sandbox', 'layer + exec wrapper', figures.sandboxLayer));
    return table;
  } finally {
    await sink.stop();
    rmSync(out, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run);
