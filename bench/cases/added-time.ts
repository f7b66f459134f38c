/**
 * Benchmark: time the extension adds after the function's response, i.e.
 * from the runtime posting its response (when Lambda emits
 * platform.runtimeDone) to the extension calling /next, with 100 spans and
 * 50 metric data points per invocation exported over loopback to an OTLP
 * backend. The function uses the OpenTelemetry SDK and sends the flushed
 * notice; the extension may therefore call /next before the response is
 * even posted (added time 0). Measured in the sandbox from its event log,
 * per flush strategy. Aim: p50 < 10 ms.
 *
 * Run alone: `npx tsx bench/run.ts added-time`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment, type SandboxEvent } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { OtlpSink } from '../../test/support/otlp-sink.js';

export const title =
  'Added time after the response (runtimeDone to /next), 100 spans and 50 data points per invocation';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Per invocation: /next time minus response time (>= 0), from the sandbox event log. */
function addedTimes(events: readonly SandboxEvent[]): number[] {
  const out: number[] = [];
  let response: SandboxEvent | undefined;
  let next: SandboxEvent | undefined;
  let inInvocation = false;
  for (const e of events) {
    if (e.type === 'invoke.start') {
      inInvocation = true;
      response = undefined;
      next = undefined;
    } else if (inInvocation && e.type === 'runtime.response') response = e;
    else if (inInvocation && e.type === 'extension.next' && e.name === 'observed-lambda' && !next) next = e;
    else if (inInvocation && e.type === 'freeze') {
      if (response && next) out.push(Math.max(0, next.timeMs - response.timeMs));
      inInvocation = false;
    }
  }
  return out;
}

export async function run(options: { quick?: boolean } = {}) {
  const invocations = options.quick ? 40 : 200;
  const dir = mkdtempSync(join(tmpdir(), 'observed-bench-added-'));
  const sink = await new OtlpSink().start();
  const rows = [];
  try {
    const { layerDir } = await buildLayer(dir);
    for (const [flush, notice] of [
      ['end-of-invocation', true],
      ['adaptive', true],
      ['end-of-invocation', false],
      ['adaptive', false],
    ] as const) {
      const env = await LambdaEnvironment.start({
        handler: 'index.handler',
        codeDir: join(__dirname, '..', '..', 'examples', 'sample-function'),
        layers: [layerDir],
        env: { OBSERVED_OTLP_ENDPOINT: sink.url, OBSERVED_FLUSH: flush },
        memorySizeMb: 1024,
      });
      const received = sink.spans().length;
      // Warm-up: the first invocations load code paths.
      for (let i = 0; i < 5; i++) await env.invoke({ spans: 100, points: 50, logs: 0, notice });
      const warm = env.events.length;
      const durations: number[] = [];
      for (let i = 0; i < invocations; i++) {
        const r = await env.invoke({ spans: 100, points: 50, logs: 0, notice });
        durations.push(r.durationMs);
      }
      const added = addedTimes(env.events.slice(warm)).sort((a, b) => a - b);
      await env.shutdown();
      durations.sort((a, b) => a - b);
      rows.push({
        OBSERVED_FLUSH: flush,
        'flushed notice': notice ? 'yes' : 'no (waits for runtimeDone)',
        invocations,
        'added p50 (ms)': percentile(added, 0.5),
        'added p99 (ms)': percentile(added, 0.99),
        'added max (ms)': added[added.length - 1],
        'invocation p50 (ms)': percentile(durations, 0.5),
        'spans delivered': sink.spans().length - received,
      });
    }
    return rows;
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const notes =
  'Aim: added p50 < 10 ms. Without the notice, end-of-invocation waits for platform.runtimeDone, which the Telemetry API delivers after its buffering time (25 ms at least); adaptive does not wait while invocations come back to back. Times are whole milliseconds (the sandbox event log). "invocation" is the duration the sandbox reports (response time plus the extension\'s time after it, as Lambda bills). Spans delivered include the platform spans.';
