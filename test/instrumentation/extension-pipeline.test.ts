/**
 * The whole path in the sandbox: plain CommonJS and ES module functions with
 * the layer (the extension built from source, and the exec wrapper with its
 * instrumentation) and AWS_LAMBDA_EXEC_WRAPPER set; their SDK exports to the
 * extension's receiver, the extension to an OTLP backend. The invocation span
 * and the function's own metric must be at the backend when the environment
 * freezes, and the extension must have moved on thanks to the flushed notice,
 * before the Telemetry API delivered platform.runtimeDone. The function does
 * not wait for the extension's answers (its exports and notice are written to
 * the loopback socket, answers read after the thaw): over many frozen
 * invocations every span and metric point arrives exactly once, and neither
 * side reports a failure.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvokeResult, TelemetryEvent } from '../../sandbox/index.js';
import { attribute, hex, spanByInvocation, useInstrumentedLayer } from './helpers.js';

const FUNCTIONS = join(__dirname, 'fixtures', 'functions');
const layer = useInstrumentedLayer();
const { backend } = layer;

function start(codeDir: string, functionName: string) {
  return layer.startWrapped({
    handler: 'index.handler',
    codeDir: join(FUNCTIONS, codeDir),
    functionName,
    timeoutMs: 10_000,
    env: {
      OBSERVED_FLUSH: 'end-of-invocation',
      OBSERVED_LOG_LEVEL: 'warn',
      // Lambda holds platform.runtimeDone this long: an extension that waited for it would lag by a second.
      OBSERVED_TELEMETRY_TIMEOUT_MS: '1000',
    },
  });
}

/** The spans of the function's own SDK (its handler wrapper's scope), not the platform's. */
function functionSpans() {
  return backend
    .requests('traces')
    .flatMap((r) => r.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans ?? [])
    .filter((ss) => ss.scope?.name === 'observed-lambda/handler')
    .flatMap((ss) => ss.spans ?? []);
}

/** Every value the backend has of the function's own counter for one service, in arrival order. */
function functionCounterValues(service: string): number[] {
  const values: number[] = [];
  for (const request of backend.requests('metrics')) {
    for (const rm of request.resourceMetrics ?? []) {
      if (attribute(rm.resource?.attributes, 'service.name') !== service) continue;
      for (const sm of rm.scopeMetrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          if (metric.name !== 'fixture.orders') continue;
          for (const point of metric.sum?.dataPoints ?? []) values.push(Number(point.asInt ?? point.asDouble));
        }
      }
    }
  }
  return values;
}

/** The function's own counter, as the backend has it for one service. */
function functionCounter(service: string): number | undefined {
  for (const request of backend.requests('metrics')) {
    for (const rm of request.resourceMetrics ?? []) {
      if (attribute(rm.resource?.attributes, 'service.name') !== service) continue;
      for (const sm of rm.scopeMetrics ?? []) {
        const metric = sm.metrics?.find((m) => m.name === 'fixture.orders');
        const point = metric?.sum?.dataPoints?.[0];
        if (point) return Number(point.asInt ?? point.asDouble);
      }
    }
  }
  return undefined;
}

/** Whether the extension asked for its next event before the Telemetry API delivered this invocation's runtimeDone. */
function movedOnBeforeRuntimeDone(result: InvokeResult, extension = 'observed-lambda'): boolean {
  // The notice goes out before the function returns, so the extension may even ask before the response is posted.
  const invoked = result.events.find((e) => e.type === 'runtime.invoke');
  const next = result.events.find(
    (e) => e.type === 'extension.next' && e.name === extension && e.seq > (invoked?.seq ?? 0),
  );
  const delivered = result.events.find(
    (e) =>
      e.type === 'telemetry.delivery' &&
      ((e.data?.events as TelemetryEvent[] | undefined) ?? []).some(
        (t) => t.type === 'platform.runtimeDone' && (t.record as { requestId?: string }).requestId === result.requestId,
      ),
  );
  return next !== undefined && (delivered === undefined || next.seq < delivered.seq);
}

describe.each([
  { format: 'CommonJS', codeDir: 'cjs', functionName: 'orders-cjs' },
  { format: 'ES module', codeDir: 'esm', functionName: 'orders-esm' },
])('a plain $format function with the layer and the exec wrapper', ({ codeDir, functionName }) => {
  it('has its invocation span and its metric at the backend when the environment freezes', async () => {
    const env = await start(codeDir, functionName);
    const results: InvokeResult[] = [];
    for (let i = 0; i < 3; i++) results.push(await env.invoke({ order: i }));

    for (const [i, r] of results.entries()) {
      expect(r.status).toBe('success');
      expect(r.events.some((e) => e.type === 'freeze')).toBe(true);
      const span = spanByInvocation(backend.spans(), r.requestId);
      expect(span?.name).toBe(functionName);
      expect(attribute(span?.attributes, 'faas.coldstart')).toBe(i === 0);
      expect((r.result as { traceId?: string }).traceId).toBe(hex(span?.traceId));
      expect(movedOnBeforeRuntimeDone(r)).toBe(true);
    }
    // Cumulative: the newest export carries all three invocations.
    expect(functionCounter(functionName)).toBeGreaterThanOrEqual(1);
    expect(env.stderr()).not.toContain('observed-lambda instrumentation:');
    // The http instrumentation is on, and neither the exports nor the flushed notice left an HTTP span.
    expect(backend.spans().filter((s) => attribute(s.attributes, 'http.request.method') !== undefined)).toEqual([]);
  });
});

describe('many frozen invocations without waiting for the extension to answer', () => {
  it('delivers every invocation span and metric point exactly once, and nothing reports a failure', async () => {
    const functionName = 'orders-frozen';
    const env = await start('cjs', functionName);
    const invocations = 20;
    const results: InvokeResult[] = [];
    for (let i = 0; i < invocations; i++) results.push(await env.invoke({ order: i }));
    // The extension's exit is its last export.
    await env.shutdown();

    for (const r of results) {
      expect(r.status).toBe('success');
      // Frozen after every invocation, with the answers to its exports and notice possibly still unread.
      expect(r.events.some((e) => e.type === 'freeze')).toBe(true);
      expect(movedOnBeforeRuntimeDone(r)).toBe(true);
      // The function's invocation span (the platform's spans of the request carry its id too).
      const spans = functionSpans().filter((s) => attribute(s.attributes, 'faas.invocation_id') === r.requestId);
      expect(spans).toHaveLength(1);
    }
    // Cumulative, exported at every invocation's flush: 1, 2, ..., N, each once.
    expect(functionCounterValues(functionName).sort((a, b) => a - b)).toEqual(
      Array.from({ length: invocations }, (_, i) => i + 1),
    );
    expect(env.stderr()).not.toContain('observed-lambda instrumentation:');
    const extensionLog = env.stdout('observed-lambda') + env.stderr('observed-lambda');
    expect(extensionLog.split('\n').filter((l) => / (WARN|ERROR) /.test(l))).toEqual([]);
  });
});
