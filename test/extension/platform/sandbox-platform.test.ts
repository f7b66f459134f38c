/**
 * Platform telemetry end to end: the extension, built from source, runs in the
 * sandbox next to a plain function and exports to a local OTLP backend. What
 * arrives must match what the sandbox's Telemetry API said: the counts of
 * invocations, errors, timeouts and cold starts, the durations of the
 * platform.report events, and log lines with their trace ids and severities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../extension-src/otlp/trace-context.js';
import type { HistogramDataPoint, Metric, NumberDataPoint } from '../../../extension-src/otlp/types.js';
import { attributeValue } from '../../../extension-src/resource/attributes.js';
import { OpenSearchFake } from '../../support/opensearch-fake.js';
import { OtlpSink } from '../../support/otlp-sink.js';
import { buildExtensionLayer, startPlatformFunction } from './extension-layer.js';

const sink = new OtlpSink();
let layer: { dir: string; cleanup: () => void };

beforeAll(async () => {
  [layer] = await Promise.all([buildExtensionLayer(), sink.start()]);
});

afterAll(async () => {
  await sink.stop();
  layer?.cleanup();
});

/** Platform metrics of the newest export (cumulative, so the newest holds the totals). */
function latestPlatformMetrics(): Map<string, Metric> {
  let best: { time: bigint; metrics: Metric[] } | undefined;
  for (const request of sink.requests('metrics')) {
    for (const rm of request.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        if (sm.scope?.name !== 'observed-lambda/platform') continue;
        const invocations = sm.metrics?.find((m) => m.name === 'faas.invocations');
        const time = BigInt(String(invocations?.sum?.dataPoints?.[0]?.timeUnixNano ?? 0));
        if (!best || time > best.time) best = { time, metrics: sm.metrics ?? [] };
      }
    }
  }
  return new Map((best?.metrics ?? []).map((m) => [m.name ?? '', m]));
}

const counter = (metrics: Map<string, Metric>, name: string) => {
  const p = metrics.get(name)?.sum?.dataPoints?.[0] as NumberDataPoint | undefined;
  return p ? Number(p.asInt ?? p.asDouble) : undefined;
};
const histogram = (metrics: Map<string, Metric>, name: string) =>
  metrics.get(name)?.histogram?.dataPoints?.[0] as HistogramDataPoint | undefined;

describe('platform telemetry from a sandboxed function', () => {
  it('exports the counts and durations the Telemetry API reported: cold, warm, error, timeout', async () => {
    const env = await startPlatformFunction({
      functionName: 'platform-fn',
      layers: [layer.dir],
      timeoutMs: 1_500,
      memorySizeMb: 256,
      tracing: 'Active',
      env: { OBSERVED_OTLP_ENDPOINT: sink.url },
    });
    let shutdown = false;
    try {
      const results: Awaited<ReturnType<typeof env.invoke>>[] = [];
      for (let i = 0; i < 4; i++) results.push(await env.invoke({ mode: 'ok', size: 100 * (i + 1) }));
      results.push(await env.invoke({ mode: 'fail' }));
      results.push(await env.invoke({ mode: 'hang' }));
      expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success', 'success', 'error', 'timeout']);
      expect(results.map((r) => r.coldStart)).toEqual([true, false, false, false, false, false]);
      await env.shutdown();
      shutdown = true;

      const reports = env.telemetryEvents('platform.report').map(
        (e) =>
          e.record as {
            requestId: string;
            metrics: { durationMs: number; billedDurationMs: number; maxMemoryUsedMB: number; initDurationMs?: number };
          },
      );
      expect(reports.map((r) => r.requestId)).toEqual(results.map((r) => r.requestId));
      const initReports = env.telemetryEvents('platform.initReport');
      expect(initReports).toHaveLength(1);

      const metrics = latestPlatformMetrics();
      expect(counter(metrics, 'faas.invocations')).toBe(4);
      expect(counter(metrics, 'faas.errors')).toBe(1);
      expect(counter(metrics, 'faas.timeouts')).toBe(1);
      expect(counter(metrics, 'faas.coldstarts')).toBe(1);

      const invoke = histogram(metrics, 'faas.invoke_duration');
      expect(Number(invoke?.count)).toBe(6);
      const sumSeconds = reports.reduce((s, r) => s + r.metrics.durationMs, 0) / 1000;
      expect(invoke?.sum).toBeCloseTo(sumSeconds, 9);
      expect(invoke?.max).toBeCloseTo(Math.max(...reports.map((r) => r.metrics.durationMs)) / 1000, 9);
      const billed = histogram(metrics, 'aws.lambda.billed_duration');
      expect(billed?.sum).toBeCloseTo(reports.reduce((s, r) => s + r.metrics.billedDurationMs, 0) / 1000, 9);
      const mem = histogram(metrics, 'faas.mem_usage');
      expect(mem?.sum).toBe(reports.reduce((s, r) => s + r.metrics.maxMemoryUsedMB, 0) * 1024 * 1024);
      const init = histogram(metrics, 'faas.init_duration');
      expect(Number(init?.count)).toBe(1);
      expect(init?.sum).toBeCloseTo(
        (initReports[0].record as { metrics: { durationMs: number } }).metrics.durationMs / 1000,
        9,
      );
      const runtimeDone = env
        .telemetryEvents('platform.runtimeDone')
        .map((e) => e.record as { metrics: { producedBytes: number } });
      expect(histogram(metrics, 'aws.lambda.response_size')?.sum).toBe(
        runtimeDone.reduce((s, r) => s + (r.metrics?.producedBytes ?? 0), 0),
      );

      // The resource says which function and environment this is.
      const resource = sink.requests('metrics')[0].resourceMetrics?.[0].resource?.attributes;
      expect(attributeValue(resource, 'faas.name')).toBe('platform-fn');
      expect(attributeValue(resource, 'cloud.platform')).toBe('aws_lambda');
      expect(attributeValue(resource, 'faas.max_memory')).toBe(256 * 1024 * 1024);

      // One invoke span per request, in the trace Lambda gave it, with the error and timeout marked.
      const invokeSpans = sink.spans().filter((s) => s.name === 'platform-fn');
      for (const r of results) {
        const span = invokeSpans.find((s) => attributeValue(s.attributes, 'faas.invocation_id') === r.requestId);
        expect(span, r.requestId).toBeDefined();
      }
      const failed = invokeSpans.find(
        (s) => attributeValue(s.attributes, 'faas.invocation_id') === results[4].requestId,
      );
      expect(failed?.status?.code).toBe(2);
      expect(sink.spans().some((s) => s.name === 'lambda.init')).toBe(true);
    } finally {
      if (!shutdown) await env.shutdown().catch(() => undefined);
    }
  });

  it('turns a JSON log line with a trace id into a log record with that trace id and severity, also in OpenSearch', async () => {
    const openSearch = await new OpenSearchFake().start();
    const env = await startPlatformFunction({
      functionName: 'platform-fn',
      layers: [layer.dir],
      logFormat: 'JSON',
      env: {
        OBSERVED_OTLP_ENDPOINT: sink.url,
        OBSERVED_OPENSEARCH_ENDPOINT: openSearch.url,
        OBSERVED_OPENSEARCH_INDEX: 'lambda-logs-%{yyyy.MM.dd}',
      },
    });
    const traceId = '5b8efff798038103d269b633813fc60c';
    const spanId = 'eee19b7ec3c1b174';
    let requestId = '';
    try {
      const r = await env.invoke({ mode: 'log', traceId, spanId });
      expect(r.status).toBe('success');
      requestId = r.requestId;
    } finally {
      await env.shutdown();
      await openSearch.stop();
    }
    const record = sink.logRecords().find((l) => bytesToHex(l.traceId) === traceId);
    expect(record).toBeDefined();
    expect(bytesToHex(record?.spanId)).toBe(spanId);
    expect(record?.severityText).toBe('ERROR');
    expect(record?.severityNumber).toBe(17);
    expect(attributeValue(record?.attributes, 'faas.invocation_id')).toBe(requestId);

    const documents = openSearch.documents.filter((d) => d.index.startsWith('lambda-logs-'));
    const document = documents.find((d) => d.source.traceId === traceId)?.source;
    expect(document).toMatchObject({
      spanId,
      severity: { text: 'ERROR', number: 17 },
      attributes: { 'faas.invocation_id': requestId, 'aws.lambda.log.source': 'function' },
      resource: { 'faas.name': 'platform-fn', 'cloud.provider': 'aws' },
    });
    const day = String(document?.['@timestamp']).slice(0, 10).replace(/-/g, '.');
    expect(documents.find((d) => d.source === document)?.index).toBe(`lambda-logs-${day}`);
  });
});
