/**
 * End to end: a Java function using the OpenTelemetry metrics and tracing API, observed with the
 * OpenTelemetry Java agent (added by an otel-handler exec wrapper, as the OpenTelemetry Lambda Java layer
 * does), run by AWS's aws-lambda-java-runtime-interface-client in the sandbox with no node findable. The
 * agent exports OTLP to the extension, which remote-writes to a real Prometheus: PromQL gives the exact
 * counter, histogram and gauge values; the function's and the platform's spans reach the OTLP sink. The
 * agent force-flushes at the end of each invocation and sends no flushed notice: the extension waits for
 * platform.runtimeDone, and each invocation's data is at the backends before it calls /next.
 */
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildJavaFunction, requireJavaRuntime, requirePortableEngine } from '../support/runtimes.js';
import {
  afterRuntimeDone,
  expectExtensionWithoutNode,
  expectFunctionSpans,
  invokeUntilFrozen,
  itemsOfScope,
  runtimeBackends,
  withObservedFunction,
} from './telemetry.js';

const java = requireJavaRuntime();
const engine = requirePortableEngine();
const FIXTURE = join(__dirname, 'fixtures', 'java-otel');
const INVOCATIONS = [
  { items: 2, value: 12.5, channel: 'web', queue: 4 },
  { items: 1, value: 40, channel: 'app', queue: 9 },
  { items: 3, value: 7.25, channel: 'web', queue: 2.5 },
];
const SERVER_SCOPE = 'io.opentelemetry.aws-lambda-core-1.0';

describe.skipIf(!java || !engine)('Java function with the OpenTelemetry Java agent', () => {
  const backends = runtimeBackends('java');
  let agentLayer: string;
  let codeDir: string;

  beforeAll(() => {
    codeDir = buildJavaFunction(java!, FIXTURE, join(backends.work, 'code'));
    // The agent's layer: its jar beside the otel-handler wrapper.
    agentLayer = join(backends.work, 'agent-layer');
    mkdirSync(agentLayer);
    copyFileSync(join(FIXTURE, 'otel-handler'), join(agentLayer, 'otel-handler'));
    symlinkSync(java!.agent, join(agentLayer, 'opentelemetry-javaagent.jar'));
  }, 120_000);

  it('delivers counter, histogram, gauge and spans exactly, before /next, driven by platform.runtimeDone', async () => {
    const options = {
      handler: 'example.Orders::handleRequest',
      codeDir,
      functionName: 'orders-java',
      runtime: java!.runtime,
      layers: [agentLayer],
      memorySizeMb: 512,
      timeoutMs: 20_000,
      // Lambda gives init 10 s; the JVM and its agent take most of that here when the machine is busy.
      initTimeoutMs: 60_000,
      env: {
        AWS_LAMBDA_EXEC_WRAPPER: join(agentLayer, 'otel-handler'),
        OTEL_SERVICE_NAME: 'orders-java',
        OTEL_LOGS_EXPORTER: 'none',
        // Only the instrumentations this function uses: the agent starts in a fraction of the time.
        OTEL_INSTRUMENTATION_COMMON_DEFAULT_ENABLED: 'false',
        OTEL_INSTRUMENTATION_AWS_LAMBDA_CORE_ENABLED: 'true',
        OTEL_INSTRUMENTATION_OPENTELEMETRY_API_ENABLED: 'true',
      },
    };
    await withObservedFunction(backends, options, async (env, sink) => {
      expectExtensionWithoutNode(env);
      let spans = 0;
      for (const event of INVOCATIONS) {
        const result = await invokeUntilFrozen(env, event);
        spans += event.items + 1;
        expectFunctionSpans(sink, ['orders', SERVER_SCOPE], spans, result);
        expect(afterRuntimeDone(env, result.requestId, 'observed-lambda')).toBe(true);
      }
      const prom = backends.prom;
      if (prom) {
        const sel = 'job="orders-java"';
        expect(await prom.value(`orders_items_total{${sel},channel="web"}`)).toBe(5);
        expect(await prom.value(`orders_items_total{${sel},channel="app"}`)).toBe(1);
        expect(await prom.value(`orders_value_count{${sel},channel="web"}`)).toBe(2);
        expect(await prom.value(`orders_value_sum{${sel},channel="web"}`)).toBe(19.75);
        expect(await prom.value(`orders_queue_depth_ratio{${sel}}`)).toBe(2.5);
        // The platform's metrics: an invocation's platform.report comes after its /next, so the last one
        // travels with the SHUTDOWN flush.
        expect(await prom.value(`faas_invocations_total{${sel}}`)).toBe(INVOCATIONS.length - 1);
        expect(await prom.value(`faas_coldstarts_total{${sel}}`)).toBe(1);
        expect(await prom.value(`faas_init_duration_seconds_count{${sel}}`)).toBe(1);
      }
      await env.shutdown();
      // The platform's spans: the init once, and each invocation's phases (the last ones with SHUTDOWN).
      const platformSpans = itemsOfScope(sink, 'traces', 'observed-lambda/platform') as { name: string }[];
      const perName = new Map<string, number>();
      for (const span of platformSpans) perName.set(span.name, (perName.get(span.name) ?? 0) + 1);
      expect(Object.fromEntries(perName)).toEqual({
        'lambda.init': 1,
        'orders-java': INVOCATIONS.length,
        'lambda.runtime': INVOCATIONS.length,
        'lambda.response_latency': INVOCATIONS.length,
        'lambda.response_duration': INVOCATIONS.length,
        'lambda.post_runtime': INVOCATIONS.length,
      });
      expect(env.nodeRunsByExtensions()).toEqual([]);
    });
  });
});
