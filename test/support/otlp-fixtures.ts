/**
 * Real OTLP requests, made by the OpenTelemetry JS SDK and its own
 * serializers (protobuf and JSON), for tests of code that reads or converts
 * OTLP: spans with events, links, status and every attribute type; counters,
 * histograms and gauges; log records with structured bodies and trace context.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Signal } from '../../extension-src/otlp/types.js';

export interface SdkRequest {
  readonly protobuf: Uint8Array;
  readonly json: string;
  /** Spans, data points or log records in it. */
  readonly items: number;
}

export interface FixtureOptions {
  spans?: number;
  /** Series of the counter (each one data point); a histogram and a gauge point are added. */
  series?: number;
  logs?: number;
  /** Distinguishes requests made by repeated calls. */
  tag?: string;
}

const resource = resourceFromAttributes({
  'service.name': 'fixture',
  'service.version': '1.2.3',
  'host.arch': 'amd64',
});

export async function sdkRequests(options: FixtureOptions = {}): Promise<Record<Signal, SdkRequest>> {
  const spanCount = options.spans ?? 5;
  const series = options.series ?? 3;
  const logCount = options.logs ?? 4;
  const tag = options.tag ?? 'a';

  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const tracer = tracerProvider.getTracer('fixture-tracer', '0.1.0');
  const root = tracer.startSpan('root', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.method': 'GET',
      'http.status_code': 200,
      ratio: 0.25,
      ok: true,
      tags: ['x', 'y'],
      numbers: [1, 2, 3],
      tag,
      big: 2 ** 40,
    },
  });
  root.addEvent('started', { step: 1 });
  const rootContext = trace.setSpan(context.active(), root);
  for (let i = 1; i < spanCount; i++) {
    const child = tracer.startSpan(
      `child ${i}`,
      { kind: SpanKind.CLIENT, links: [{ context: root.spanContext(), attributes: { link: i } }] },
      rootContext,
    );
    child.setStatus({ code: i % 2 ? SpanStatusCode.OK : SpanStatusCode.ERROR, message: i % 2 ? undefined : 'failed' });
    child.end();
  }
  root.end();
  await tracerProvider.forceFlush();
  const spans = spanExporter.getFinishedSpans();

  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const meter = meterProvider.getMeter('fixture-meter', '0.1.0');
  const counter = meter.createCounter('fixture.requests', { unit: '{request}' });
  for (let i = 0; i < series; i++) counter.add(i + 1, { series: `s${i}`, tag });
  meter.createHistogram('fixture.latency', { unit: 's' }).record(0.123, { tag });
  meter.createObservableGauge('fixture.temperature').addCallback((r) => r.observe(-12.5, { tag }));
  await reader.forceFlush();
  const resourceMetrics = metricExporter.getMetrics();
  await meterProvider.shutdown();

  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  const logger = loggerProvider.getLogger('fixture-logger', '0.1.0');
  for (let i = 0; i < logCount; i++) {
    logger.emit({
      body: i % 2 ? `line ${i} ${tag}` : { message: `structured ${i}`, nested: { n: i }, list: [1, 'two'] },
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      attributes: { index: i, tag },
      context: rootContext,
    });
  }
  await loggerProvider.forceFlush();
  const logs = logExporter.getFinishedLogRecords();

  const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
  // Shutting the provider down exported once more: the first export is the one serialized.
  const points = resourceMetrics[0].scopeMetrics.reduce(
    (n, sm) => n + sm.metrics.reduce((k, metric) => k + metric.dataPoints.length, 0),
    0,
  );
  return {
    traces: {
      protobuf: ProtobufTraceSerializer.serializeRequest(spans)!,
      json: text(JsonTraceSerializer.serializeRequest(spans)),
      items: spans.length,
    },
    metrics: {
      protobuf: ProtobufMetricsSerializer.serializeRequest(resourceMetrics[0])!,
      json: text(JsonMetricsSerializer.serializeRequest(resourceMetrics[0])),
      items: points,
    },
    logs: {
      protobuf: ProtobufLogsSerializer.serializeRequest(logs)!,
      json: text(JsonLogsSerializer.serializeRequest(logs)),
      items: logs.length,
    },
  };
}
