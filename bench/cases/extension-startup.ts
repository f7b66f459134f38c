/**
 * Benchmark: time from the extension process's start to registered and
 * subscribed to the Telemetry API (the extension's part of a cold start), in
 * the local Lambda sandbox, which starts the extension and the function's
 * runtime at the same time as Lambda does. Measured from the sandbox's event
 * log (process spawn to the Telemetry API subscription, milliseconds), and
 * the extension's own "ready" figure (performance.now() when its receivers
 * listen, i.e. from process start, Node.js's own start-up included).
 * Aim: < 60 ms.
 *
 * Run alone: `npx tsx bench/run.ts extension-startup`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { OtlpSink } from '../../test/support/otlp-sink.js';

export const title = 'Extension start-up: process start to registered and subscribed';

function stats(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { min: sorted[0], p50: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] };
}

export async function run(options: { quick?: boolean } = {}) {
  const runs = options.quick ? 5 : 20;
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-startup-'));
  const sink = await new OtlpSink().start();
  try {
    const { layerDir } = await buildLayer(dir);
    const toRegister: number[] = [];
    const toSubscribe: number[] = [];
    const selfReported: number[] = [];
    const selfCpu: number[] = [];
    const nodeAlone: number[] = [];
    const nodeAloneCpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const env = await LambdaEnvironment.start({
        handler: 'index.handler',
        codeDir: join(__dirname, '..', '..', 'examples', 'sample-function'),
        layers: [layerDir],
        env: { OBSERVED_OTLP_ENDPOINT: sink.url },
      });
      const events = env.events;
      const spawn = events.find((e) => e.type === 'process.spawn' && e.name === 'observed-lambda');
      const register = events.find((e) => e.type === 'extension.register' && e.name === 'observed-lambda');
      const subscribe = events.find((e) => e.type === 'telemetry.subscribe');
      await env.shutdown();
      if (!spawn || !register || !subscribe)
        throw new Error('the sandbox log lacks spawn, register or subscribe events');
      toRegister.push(register.timeMs - spawn.timeMs);
      toSubscribe.push(subscribe.timeMs - spawn.timeMs);
      const ready = /ready in (\d+) ms \(cpu (\d+) ms\)/.exec(env.stdout('observed-lambda'));
      if (ready) {
        selfReported.push(Number(ready[1]));
        selfCpu.push(Number(ready[2]));
      }
      // The same figures for Node.js starting an empty script, on the same machine at the same time.
      const [wall, cpu] = execFileSync(
        process.execPath,
        ['-e', 'const u = process.cpuUsage(); console.log(performance.now(), (u.user + u.system) / 1000)'],
        { encoding: 'utf8' },
      )
        .trim()
        .split(' ')
        .map(Number);
      nodeAlone.push(Math.round(wall));
      nodeAloneCpu.push(Math.round(cpu));
    }
    return [
      { measure: 'spawn to registered (ms)', runs, ...stats(toRegister) },
      { measure: 'spawn to subscribed (ms)', runs, ...stats(toSubscribe) },
      { measure: 'process start to ready, self-reported (ms)', runs, ...stats(selfReported) },
      { measure: 'CPU time at ready, self-reported (ms)', runs, ...stats(selfCpu) },
      { measure: 'Node.js alone: process start to an empty script (ms)', runs, ...stats(nodeAlone) },
      { measure: 'Node.js alone: CPU time of an empty script (ms)', runs, ...stats(nodeAloneCpu) },
    ];
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const notes =
  "Aim: ready < 60 ms. The machine is shared (2 cores, other jobs running), so the spread is wide; compare the extension's rows with Node.js alone, measured alongside: the difference is the extension's own cost.";
