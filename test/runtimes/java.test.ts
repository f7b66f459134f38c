/**
 * End to end: a Java function using the OpenTelemetry metrics and tracing API, observed with the
 * OpenTelemetry Java agent (added by an otel-handler exec wrapper, as the OpenTelemetry Lambda Java layer
 * does), run by AWS's aws-lambda-java-runtime-interface-client in the sandbox with no node findable. The
 * agent exports OTLP to the extension, which remote-writes to a real Prometheus: PromQL gives the exact
 * counter, histogram and gauge values; the function's and the platform's spans reach the OTLP sink. The
 * agent force-flushes at the end of each invocation and sends no flushed notice: the extension waits for
 * platform.runtimeDone, and each invocation's data is at the backends before it calls /next.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { OtlpSink } from '../support/otlp-sink.js';
import { PrometheusServer } from '../support/prometheus.js';
import {
  buildJavaFunction,
  layerForAnyRuntime,
  nodeOnPath,
  requireJavaRuntime,
  requirePortableEngine,
} from '../support/runtimes.js';
import { afterRuntimeDone, extensionSettings, itemsOfScope } from './telemetry.js';

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
  const work = mkdtempSync(join(tmpdir(), 'runtimes-java-'));
  let prom: PrometheusServer | undefined;
  let layer: string;
  let agentLayer: string;
  let codeDir: string;

  beforeAll(async () => {
    codeDir = buildJavaFunction(java!, FIXTURE, join(work, 'code'));
    // The agent's layer: its jar beside the otel-handler wrapper.
    agentLayer = join(work, 'agent-layer');
    mkdirSync(agentLayer);
    copyFileSync(join(FIXTURE, 'otel-handler'), join(agentLayer, 'otel-handler'));
    symlinkSync(java!.agent, join(agentLayer, 'opentelemetry-javaagent.jar'));
    [prom, layer] = await Promise.all([PrometheusServer.start(), layerForAnyRuntime(work)]);
  }, 180_000);
  afterAll(async () => {
    await prom?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('delivers counter, histogram, gauge and spans exactly, before /next, driven by platform.runtimeDone', async () => {
    const sink = await new OtlpSink().start();
    const env = await LambdaEnvironment.start({
      handler: 'example.Orders::handleRequest',
      codeDir,
      functionName: 'orders-java',
      runtime: java!.runtime,
      layers: [layer, agentLayer],
      memorySizeMb: 512,
      // A trap in front of the extension's PATH records any run of node: there must be none.
      extensionsWithoutNode: true,
      timeoutMs: 20_000,
      // Lambda gives init 10 s; the JVM and its agent take most of that here when the machine is busy.
      initTimeoutMs: 60_000,
      env: {
        AWS_LAMBDA_EXEC_WRAPPER: join(agentLayer, 'otel-handler'),
        OTEL_SERVICE_NAME: 'orders-java',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_LOGS_EXPORTER: 'none',
        // Only the instrumentations this function uses: the agent starts in a fraction of the time.
        OTEL_INSTRUMENTATION_COMMON_DEFAULT_ENABLED: 'false',
        OTEL_INSTRUMENTATION_AWS_LAMBDA_CORE_ENABLED: 'true',
        OTEL_INSTRUMENTATION_OPENTELEMETRY_API_ENABLED: 'true',
        // Only the agent's end-of-invocation flush exports: what arrives is what it flushed.
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
        ...extensionSettings(sink, prom),
      },
    });
    try {
      expect(nodeOnPath(env.functionEnv)).toBe('');
      expect(env.processInfo.find((p) => p.name === 'observed-lambda')?.running).toBe(true);
      let spans = 0;
      for (const event of INVOCATIONS) {
        const result = await env.invoke(event);
        expect(result.status).toBe('success');
        expect(env.frozen).toBe(true);
        const produced = result.result as { spanIds: string[]; traceId: string };
        spans += event.items + 1;
        const functionSpans = [
          ...itemsOfScope(sink, 'traces', 'orders'),
          ...itemsOfScope(sink, 'traces', SERVER_SCOPE),
        ] as { spanId: Uint8Array; traceId: Uint8Array }[];
        expect(functionSpans).toHaveLength(spans);
        const ids = new Set(functionSpans.map((s) => Buffer.from(s.spanId).toString('hex')));
        for (const id of produced.spanIds) expect(ids.has(id)).toBe(true);
        expect(afterRuntimeDone(env, result.requestId, 'observed-lambda')).toBe(true);
      }
      console.log(
        JSON.stringify([
          ...new Set(sink.received.flatMap((r) => JSON.stringify(r.request).match(/"scope":\{"name":"[^"]+"/g) ?? [])),
        ]),
      );
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
    } finally {
      await env.shutdown();
      await sink.stop();
    }
  });
});
