/**
 * Sample Lambda function instrumented with the OpenTelemetry JS SDK (traces,
 * metrics, logs over OTLP/HTTP protobuf to OTEL_EXPORTER_OTLP_ENDPOINT, the
 * extension's receiver). Before returning, it force-flushes the SDK and tells
 * the extension with the flushed notice, so the extension can export at once
 * instead of waiting for platform.runtimeDone.
 *
 * Event: { spans?: number, points?: number, logs?: number, fail?: boolean, notice?: boolean }
 * (defaults 3, 2, 2, false, true; `notice: false` skips the flushed notice, as a function
 * without the wrapper would). Returns what it produced, so callers can check that
 * every span, data point and log record arrived exactly once.
 */
const http = require('node:http');
const { context: otelContext, SpanStatusCode, trace } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { MeterProvider, PeriodicExportingMetricReader } = require('@opentelemetry/sdk-metrics');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-proto');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');

const resource = resourceFromAttributes({ 'service.name': 'sample-function' });
const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { maxExportBatchSize: 512, maxQueueSize: 4096 })],
});
// Exports only when flushed at the end of each invocation.
const metricReader = new PeriodicExportingMetricReader({
  exporter: new OTLPMetricExporter(),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ resource, readers: [metricReader] });
const loggerProvider = new LoggerProvider({
  resource,
  // sdk-logs 0.2xx takes the exporter inside the options object.
  processors: [
    new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(), maxExportBatchSize: 512, maxQueueSize: 4096 }),
  ],
});

const tracer = tracerProvider.getTracer('sample-function');
const meter = meterProvider.getMeter('sample-function');
const logger = loggerProvider.getLogger('sample-function');
const invocations = meter.createCounter('sample.invocations', { description: 'Invocations handled' });
const work = meter.createCounter('sample.work', { description: 'Work units, one series per unit' });

let count = 0;

/** Tells the extension this invocation's telemetry is flushed (best effort, bounded). */
function sendFlushedNotice(requestId) {
  const port = process.env.OBSERVED_RECEIVER_PORT || '4318';
  return new Promise((resolve) => {
    const body = JSON.stringify({ requestId });
    let req;
    try {
      req = http.request(
        { host: '127.0.0.1', port, path: '/observed/v1/flushed', method: 'POST', timeout: 200 },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
    } catch {
      // A bad port must not fail the function.
      resolve();
      return;
    }
    req.setHeader('content-type', 'application/json');
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve());
    req.end(body);
  });
}

exports.handler = async (event = {}, context) => {
  count++;
  const spans = event.spans ?? 3;
  const points = event.points ?? 2;
  const logs = event.logs ?? 2;
  const produced = { invocation: count, spanIds: [], logBodies: [], points };
  tracer.startActiveSpan('handler', (root) => {
    root.setAttribute('sample.invocation', count);
    produced.traceId = root.spanContext().traceId;
    produced.spanIds.push(root.spanContext().spanId);
    for (let i = 1; i < spans; i++) {
      // No context manager is registered, so the parent is passed explicitly.
      const child = tracer.startSpan(`work ${i}`, {}, trace.setSpan(otelContext.active(), root));
      produced.spanIds.push(child.spanContext().spanId);
      child.end();
    }
    invocations.add(1);
    for (let i = 0; i < points - 1; i++) work.add(1, { unit: String(i) });
    for (let i = 0; i < logs; i++) {
      const body = `invocation ${count} line ${i} ${context.awsRequestId}`;
      logger.emit({ body, severityText: 'INFO', attributes: { 'sample.invocation': count } });
      produced.logBodies.push(body);
    }
    if (event.fail) root.setStatus({ code: SpanStatusCode.ERROR, message: 'asked to fail' });
    root.end();
  });
  await Promise.all([tracerProvider.forceFlush(), metricReader.forceFlush(), loggerProvider.forceFlush()]);
  if (event.notice !== false) await sendFlushedNotice(context.awsRequestId);
  return produced;
};
