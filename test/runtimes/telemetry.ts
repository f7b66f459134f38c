/** What the runtime suites start and read: backends, the observed function, the OTLP sink and the sandbox's event log. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Signal } from '../../extension-src/otlp/types.js';
import {
  type InvokeResult,
  LambdaEnvironment,
  type LambdaEnvironmentOptions,
  type TelemetryEvent,
} from '../../sandbox/index.js';
import { OtlpSink } from '../support/otlp-sink.js';
import { PrometheusServer } from '../support/prometheus.js';
import { layerForAnyRuntime, nodeOnPath } from '../support/runtimes.js';

type Scoped = { scope?: { name?: string }; spans?: unknown[]; metrics?: unknown[]; logRecords?: unknown[] };

/** Spans, metrics or log records of one instrumentation scope in everything the sink received. */
export function itemsOfScope(sink: OtlpSink, signal: Signal, scope: string): unknown[] {
  const out: unknown[] = [];
  for (const request of sink.requests(signal) as Record<string, Record<string, Scoped[]>[]>[]) {
    for (const resource of request.resourceSpans ?? request.resourceMetrics ?? request.resourceLogs ?? []) {
      for (const s of resource.scopeSpans ?? resource.scopeMetrics ?? resource.scopeLogs ?? []) {
        if (s.scope?.name === scope) out.push(...(s.spans ?? s.metrics ?? s.logRecords ?? []));
      }
    }
  }
  return out;
}

/**
 * Whether the extension's /next that ended the invocation came after the Telemetry API delivered the
 * invocation's platform.runtimeDone to it.
 */
export function afterRuntimeDone(env: LambdaEnvironment, requestId: string, extension: string): boolean {
  const events = env.events;
  const delivered = events.find(
    (e) =>
      e.type === 'telemetry.delivery' &&
      e.name === extension &&
      ((e.data?.events as TelemetryEvent[]) ?? []).some(
        (t) => t.type === 'platform.runtimeDone' && (t.record as { requestId?: string }).requestId === requestId,
      ),
  );
  const invokeDone = events.find((e) => e.type === 'invoke.done' && e.requestId === requestId);
  if (!delivered || !invokeDone) return false;
  return events.some(
    (e) => e.type === 'extension.next' && e.name === extension && e.seq > delivered.seq && e.seq < invokeDone.seq,
  );
}

/** What a runtime suite's tests share: a work folder, a real Prometheus (when installed) and the layer. */
export interface RuntimeBackends {
  readonly work: string;
  prom: PrometheusServer | undefined;
  layer: string;
}

/** Starts the backends before the tests of the calling describe block and stops them after. */
export function runtimeBackends(name: string): RuntimeBackends {
  const backends: RuntimeBackends = {
    work: mkdtempSync(join(tmpdir(), `runtimes-${name}-`)),
    prom: undefined,
    layer: '',
  };
  beforeAll(async () => {
    [backends.prom, backends.layer] = await Promise.all([PrometheusServer.start(), layerForAnyRuntime(backends.work)]);
  }, 120_000);
  afterAll(async () => {
    await backends.prom?.stop();
    rmSync(backends.work, { recursive: true, force: true });
  });
  return backends;
}

/**
 * Starts the function with the extension's layer in front of `options.layers`, no node findable by the
 * extension, its OpenTelemetry SDK exporting OTLP/protobuf only when the function flushes, and the extension
 * exporting to the sink and Prometheus; runs `check`, then shuts the environment and the sink down.
 */
export async function withObservedFunction(
  backends: RuntimeBackends,
  options: LambdaEnvironmentOptions,
  check: (env: LambdaEnvironment, sink: OtlpSink) => Promise<void>,
): Promise<void> {
  const sink = await new OtlpSink().start();
  try {
    const env = await LambdaEnvironment.start({
      ...options,
      layers: [backends.layer, ...(options.layers ?? [])],
      // A trap in front of the extension's PATH records any run of node: there must be none.
      extensionsWithoutNode: true,
      env: {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        // Only the flush at the end of each invocation exports: what arrives is what it flushed.
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
        ...options.env,
        ...extensionSettings(sink, backends.prom),
      },
    });
    try {
      await check(env, sink);
    } finally {
      await env.shutdown();
    }
  } finally {
    await sink.stop();
  }
}

/** OTLP to the sink, remote write to Prometheus, a flush per invocation. */
function extensionSettings(sink: OtlpSink, prom: PrometheusServer | undefined): Record<string, string> {
  return {
    OBSERVED_OTLP_ENDPOINT: sink.url,
    ...(prom ? { OBSERVED_REMOTE_WRITE_URL: prom.remoteWriteUrl } : {}),
    OBSERVED_FLUSH: 'end-of-invocation',
    // These suites check what is delivered, not how fast: on a busy machine the engine's first remote-write
    // translations (QuickJS, no JIT) took up to 3.9 s, past the default 2 s flush deadline.
    OBSERVED_FLUSH_TIMEOUT_MS: '8000',
  };
}

/** The extension is running, and neither the function nor the extension could find node on PATH. */
export function expectExtensionWithoutNode(env: LambdaEnvironment): void {
  expect(nodeOnPath(env.functionEnv)).toBe('');
  expect(env.processInfo.find((p) => p.name === 'observed-lambda')?.running).toBe(true);
}

/** Invokes once: the invocation succeeded and the environment is frozen, so whatever it flushed has arrived. */
export async function invokeUntilFrozen(env: LambdaEnvironment, event: unknown): Promise<InvokeResult> {
  const result = await env.invoke(event);
  expect(result.status).toBe('success');
  expect(env.frozen).toBe(true);
  return result;
}

/**
 * The sink holds `count` spans of the function's scope and its Lambda instrumentation's scope, among them
 * every span the invocation reported (`result.spanIds`).
 */
export function expectFunctionSpans(sink: OtlpSink, scopes: string[], count: number, result: InvokeResult): void {
  const spans = scopes.flatMap((scope) => itemsOfScope(sink, 'traces', scope)) as { spanId: Uint8Array }[];
  expect(spans).toHaveLength(count);
  const ids = new Set(spans.map((s) => Buffer.from(s.spanId).toString('hex')));
  for (const id of (result.result as { spanIds: string[] }).spanIds) expect(ids.has(id)).toBe(true);
}
