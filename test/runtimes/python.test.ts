/**
 * End to end: a Python function instrumented with the OpenTelemetry Python SDK and its aws-lambda
 * wrapper, run by AWS's awslambdaric in the sandbox with no node findable, beside the extension. The SDK
 * force-flushes at the end of each invocation and sends no flushed notice: the extension waits for
 * platform.runtimeDone, so each invocation's spans, points and logs are at the OTLP sink and in a real
 * Prometheus before it calls /next and the environment freezes. Exact counts and values.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requirePortableEngine, requirePythonRuntime } from '../support/runtimes.js';
import {
  afterRuntimeDone,
  expectExtensionWithoutNode,
  expectFunctionSpans,
  invokeUntilFrozen,
  itemsOfScope,
  runtimeBackends,
  withObservedFunction,
} from './telemetry.js';

const python = requirePythonRuntime();
const engine = requirePortableEngine();
const CODE = join(__dirname, 'fixtures', 'python-otel');
const INVOCATIONS = [
  { items: 1, value: 12.5, channel: 'web' },
  { items: 3, value: 40, channel: 'app' },
  { items: 2, value: 7.25, channel: 'web' },
  { items: 4, value: 100, channel: 'web' },
];

interface MetricItem {
  sum?: { dataPoints: unknown[] };
  histogram?: { dataPoints: unknown[] };
}

/** Points exported by the flushes of invocations 0..n: two instruments times the channels seen by then. */
function expectedPoints(n: number): number {
  let total = 0;
  for (let i = 0; i <= n; i++) total += 2 * new Set(INVOCATIONS.slice(0, i + 1).map((e) => e.channel)).size;
  return total;
}

describe.skipIf(!python || !engine)('Python function with the OpenTelemetry SDK and aws-lambda wrapper', () => {
  const backends = runtimeBackends('python');

  it('delivers each invocation exactly, before /next, driven by platform.runtimeDone', async () => {
    const options = {
      handler: 'app.handler',
      codeDir: CODE,
      functionName: 'orders-py',
      runtime: python!,
      timeoutMs: 10_000,
      env: { AWS_LAMBDA_EXEC_WRAPPER: join(CODE, 'otel-instrument'), OTEL_SERVICE_NAME: 'orders-py' },
    };
    await withObservedFunction(backends, options, async (env, sink) => {
      expectExtensionWithoutNode(env);
      let spans = 0;
      let logs = 0;
      for (const [n, event] of INVOCATIONS.entries()) {
        // Frozen after it: everything this invocation flushed is at the backend already.
        const result = await invokeUntilFrozen(env, event);
        spans += event.items + 1;
        logs += event.items;
        expectFunctionSpans(sink, ['orders', 'opentelemetry.instrumentation.aws_lambda'], spans, result);
        expect(itemsOfScope(sink, 'logs', 'orders')).toHaveLength(logs);
        // Cumulative temporality: each flush carries one point per instrument and channel seen so far.
        const points = (itemsOfScope(sink, 'metrics', 'orders') as MetricItem[]).flatMap(
          (m) => m.sum?.dataPoints ?? m.histogram?.dataPoints ?? [],
        );
        expect(points).toHaveLength(expectedPoints(n));
        // The extension called /next for this invocation only after the Telemetry API delivered its runtimeDone.
        expect(afterRuntimeDone(env, result.requestId, 'observed-lambda')).toBe(true);
      }
      expect(env.stdout('observed-lambda')).not.toContain('no runtimeDone or flushed notice');

      const prom = backends.prom;
      if (prom) {
        const sel = 'job="orders-py"';
        const web = INVOCATIONS.filter((e) => e.channel === 'web');
        expect(await prom.value(`orders_items_total{${sel},channel="web"}`)).toBe(web.reduce((a, e) => a + e.items, 0));
        expect(await prom.value(`orders_items_total{${sel},channel="app"}`)).toBe(3);
        expect(await prom.value(`orders_value_count{${sel},channel="web"}`)).toBe(web.length);
        expect(await prom.value(`orders_value_sum{${sel},channel="web"}`)).toBe(119.75);
        // The platform's metrics: an invocation's platform.report comes after its /next, so the last one
        // travels with the SHUTDOWN flush.
        expect(await prom.value(`faas_invoke_duration_seconds_count{${sel}}`)).toBe(INVOCATIONS.length - 1);
      }
      expect(env.nodeRunsByExtensions()).toEqual([]);
    });
  });
});
