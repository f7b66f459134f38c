/** What the runtime suites read from the OTLP sink and the sandbox's event log. */
import type { Signal } from '../../extension-src/otlp/types.js';
import type { LambdaEnvironment, TelemetryEvent } from '../../sandbox/index.js';
import type { OtlpSink } from '../support/otlp-sink.js';
import type { PrometheusServer } from '../support/prometheus.js';

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

/** The extension's settings of both runtime suites: OTLP to the sink, remote write to Prometheus, a flush per invocation. */
export function extensionSettings(sink: OtlpSink, prom: PrometheusServer | undefined): Record<string, string> {
  return {
    OBSERVED_OTLP_ENDPOINT: sink.url,
    ...(prom ? { OBSERVED_REMOTE_WRITE_URL: prom.remoteWriteUrl } : {}),
    OBSERVED_FLUSH: 'end-of-invocation',
    // These suites check what is delivered, not how fast: on a busy machine the engine's first remote-write
    // translations (QuickJS, no JIT) took up to 3.9 s, past the default 2 s flush deadline.
    OBSERVED_FLUSH_TIMEOUT_MS: '8000',
  };
}
