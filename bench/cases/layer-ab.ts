/**
 * Benchmark: two or more builds of a layer side by side, for a before/after figure of one change. Each round
 * starts one fresh sandbox environment per layer, in turn (so every layer meets the same machine load), runs
 * the peers function (bench/peers/function.ts: 5 spans, 1 log record, 1 metric point per invocation, OTLP/HTTP
 * JSON to the extension's receiver, then the flushed notice; the extension exports to an OTLP sink), and reads:
 * - ready: extension spawn to its first `/next` (sandbox event log, whole ms);
 * - peak RSS (VmHWM of the extension's process tree) once idle at `/next`, and after the invocations;
 * - CPU (utime + stime of that tree) of the invocations, per 1,000.
 * Medians over the rounds.
 *
 * Run: `BENCH_AB_LAYERS=/tmp/before/layer-portable,dist/layer-portable npx tsx bench/run.ts layer-ab`
 * (layer directories as mounted at /opt; default: dist/layer and dist/layer-portable). BENCH_AB_ROUNDS
 * (default 5, `--quick` 2) and BENCH_AB_INVOCATIONS (default 300, `--quick` 50); BENCH_AB_ENV, a JSON object,
 * adds environment variables (e.g. `{"OBSERVED_TELEMETRY_TYPES":"none"}` to take the platform module out).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { freePort } from '../../sandbox/ports.js';
import { OtlpSink } from '../../test/support/otlp-sink.js';
import { percentile } from '../peers/compare.js';
import { HANDLER } from '../peers/function.js';
import { treePeakRss, treeUsage } from '../peers/proc-usage.js';

export const title = 'Layer builds side by side: ready, RSS and CPU per invocation in the sandbox';

const ROOT = join(__dirname, '..', '..');
const EXTENSION = 'observed-lambda';

interface Samples {
  readyMs: number[];
  idleRssMb: number[];
  rssAfterMb: number[];
  cpuPerThousandS: number[];
}

export async function run(options: { quick?: boolean } = {}) {
  const layers = (process.env.BENCH_AB_LAYERS ?? 'dist/layer,dist/layer-portable').split(',').map((l) => resolve(l));
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? (options.quick ? 2 : 5));
  const invocations = Number(process.env.BENCH_AB_INVOCATIONS ?? (options.quick ? 50 : 300));
  const extraEnv = JSON.parse(process.env.BENCH_AB_ENV ?? '{}') as Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-ab-'));
  const codeDir = join(dir, 'function');
  mkdirSync(codeDir);
  writeFileSync(join(codeDir, 'index.js'), HANDLER);
  const sink = await new OtlpSink().start();
  const samples = new Map<string, Samples>(
    layers.map((l) => [l, { readyMs: [], idleRssMb: [], rssAfterMb: [], cpuPerThousandS: [] }]),
  );
  try {
    for (let round = 0; round < rounds; round++) {
      for (const layer of layers) {
        const s = samples.get(layer) as Samples;
        // The function sends to the extension's receiver, as in the peers case, so receiving, converting and
        // exporting its data count in the extension's CPU.
        const receiverPort = await freePort();
        const env = await LambdaEnvironment.start({
          handler: 'index.handler',
          codeDir,
          layers: [layer],
          env: {
            OBSERVED_OTLP_ENDPOINT: sink.url,
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiverPort}`,
            OBSERVED_RECEIVER_PORT: String(receiverPort),
            BENCH_COMPLETION: 'observed-flushed',
            ...extraEnv,
          },
          memorySizeMb: 1024,
          timeoutMs: 10_000,
        });
        try {
          const spawn = env.events.find((e) => e.type === 'process.spawn' && e.name === EXTENSION);
          const next = env.events.find((e) => e.type === 'extension.next');
          const pid = env.processInfo.find((p) => p.kind === 'extension' && p.running)?.pid;
          if (!spawn || !next || !pid) throw new Error(`${layer}: no extension spawn, /next or process`);
          s.readyMs.push(next.timeMs - spawn.timeMs);
          s.idleRssMb.push(treePeakRss(pid) / 1e6);
          const before = treeUsage(pid).cpuSeconds;
          for (let n = 1; n <= invocations; n++) await env.invoke({ n });
          s.cpuPerThousandS.push(((treeUsage(pid).cpuSeconds - before) * 1000) / invocations);
          s.rssAfterMb.push(treePeakRss(pid) / 1e6);
        } finally {
          await env.shutdown();
        }
      }
    }
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (values: number[]) => percentile(values, 0.5);
  return layers.map((layer) => {
    const s = samples.get(layer) as Samples;
    return {
      layer: layer.startsWith(ROOT) ? layer.slice(ROOT.length + 1) : layer,
      rounds,
      'ready ms (median)': median(s.readyMs),
      'ready ms (all)': s.readyMs.join(' '),
      'peak RSS at first /next MB': median(s.idleRssMb).toFixed(1),
      [`peak RSS after ${invocations} invocations MB`]: median(s.rssAfterMb).toFixed(1),
      'CPU per 1,000 invocations s': median(s.cpuPerThousandS).toFixed(2),
    };
  });
}

export const notes =
  'Same run, layers interleaved round by round. CPU has the 10 ms tick of /proc; with a few hundred invocations per round that is below 0.05 s per 1,000. Ready time is wall time and follows the machine load; compare layers within one run.';
