/**
 * The loopback span processor against a real OTLP sink (official protos
 * decode what it sent): what a flush sends is what the SDK's
 * BatchSpanProcessor and OTLP exporter send; it honours OTEL_BSP_* (batches,
 * a bounded queue with one line about drops, the scheduled export), skips
 * unsampled spans, exports at shutdown, and a flush never rejects.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it, vi } from 'vitest';
import { loopbackSettled } from '../../instrumentation-src/loopback/connection.js';
import { LoopbackOtlpTransport } from '../../instrumentation-src/loopback/otlp-transport.js';
import { spanExporter, spanProcessor } from '../../instrumentation-src/sdk/exporters.js';
import {
  LoopbackSpanProcessor,
  type SpanBatchOptions,
  spanBatchOptions,
} from '../../instrumentation-src/sdk/loopback-span-processor.js';
import type { OtlpSink } from '../support/otlp-sink.js';
import { instrumentationStderr, useCleanups } from './helpers.js';

const { cleanups, startSink } = useCleanups();

const resource = resourceFromAttributes({ 'service.name': 'orders', 'faas.name': 'orders-fn' });

function processorFor(sink: OtlpSink, options?: Partial<SpanBatchOptions>): LoopbackSpanProcessor {
  const transport = new LoopbackOtlpTransport(`${sink.url}/v1/traces`, async () => ({
    'Content-Type': 'application/x-protobuf',
  }));
  return new LoopbackSpanProcessor(transport, { ...spanBatchOptions(), ...options });
}

/** Ends the same spans through a provider with the given processor, then flushes it. */
async function traceSomeWork(processor: SpanProcessor): Promise<void> {
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  const tracer = provider.getTracer('orders', '1.2.3');
  tracer.startActiveSpan('place order', { kind: SpanKind.SERVER, attributes: { 'order.items': 3 } }, (parent) => {
    const child = tracer.startSpan('charge card', { attributes: { 'payment.provider': 'acme', retried: true } });
    child.addEvent('declined once', { attempt: 1 });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'declined' });
    child.end();
    parent.end();
  });
  await provider.forceFlush();
}

/** The received spans with the fields that do not depend on ids and times. */
function comparable(sink: OtlpSink) {
  return sink.spans().map((span) => ({
    name: span.name,
    kind: span.kind,
    attributes: span.attributes,
    events: span.events?.map((e) => ({ name: e.name, attributes: e.attributes })),
    status: span.status,
    hasParent: (span.parentSpanId?.length ?? 0) > 0,
  }));
}

describe('loopback span processor', () => {
  it('sends what the BatchSpanProcessor and the OTLP exporter send, resource and scope included', async () => {
    const ours = await startSink();
    await traceSomeWork(processorFor(ours));
    await loopbackSettled();

    const sdk = await startSink();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', sdk.url);
    await traceSomeWork(new BatchSpanProcessor(spanExporter()));
    await loopbackSettled();

    expect(ours.received).toHaveLength(1);
    expect(comparable(ours)).toEqual(comparable(sdk));
    expect(comparable(ours).map((s) => s.name)).toEqual(['charge card', 'place order']);
    expect(ours.received[0].contentType).toBe('application/x-protobuf');
    const [ourRequest, sdkRequest] = [ours.requests('traces')[0], sdk.requests('traces')[0]];
    expect(ourRequest.resourceSpans?.[0]?.resource).toEqual(sdkRequest.resourceSpans?.[0]?.resource);
    expect(ourRequest.resourceSpans?.[0]?.scopeSpans?.[0]?.scope).toEqual(
      sdkRequest.resourceSpans?.[0]?.scopeSpans?.[0]?.scope,
    );
    expect(ourRequest.resourceSpans?.[0]?.scopeSpans?.[0]?.scope).toMatchObject({ name: 'orders', version: '1.2.3' });
  });

  it('is what the SDK set-up uses for protobuf exports to this host only', () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://127.0.0.1:4318');
    expect(spanProcessor()).toBeInstanceOf(LoopbackSpanProcessor);
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/json');
    expect(spanProcessor()).toBeInstanceOf(BatchSpanProcessor);
    vi.unstubAllEnvs();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', 'https://collector.example.com:4318');
    expect(spanProcessor()).toBeInstanceOf(BatchSpanProcessor);
  });

  it('reads OTEL_BSP_* as the BatchSpanProcessor does', () => {
    expect(spanBatchOptions()).toEqual({
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 5000,
      exportTimeoutMillis: 30_000,
    });
    vi.stubEnv('OTEL_BSP_MAX_QUEUE_SIZE', '100');
    vi.stubEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '500');
    vi.stubEnv('OTEL_BSP_SCHEDULE_DELAY', '200');
    vi.stubEnv('OTEL_BSP_EXPORT_TIMEOUT', '1000');
    expect(spanBatchOptions()).toEqual({
      maxQueueSize: 100,
      maxExportBatchSize: 100,
      scheduledDelayMillis: 200,
      exportTimeoutMillis: 1000,
    });
  });

  it('sends in batches of maxExportBatchSize, and while a send is in progress queues up to maxQueueSize, then drops and says so once', async () => {
    const sink = await startSink();
    const warnings = instrumentationStderr();
    const real = new LoopbackOtlpTransport(`${sink.url}/v1/traces`, async () => ({}));
    // Sends wait until the gate opens, as on a connection whose writes are stuck.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const processor = new LoopbackSpanProcessor(
      { send: (data, timeout) => gate.then(() => real.send(data, timeout)) },
      { maxQueueSize: 3, maxExportBatchSize: 2, scheduledDelayMillis: 60_000, exportTimeoutMillis: 1000 },
    );
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('t');

    // 0 and 1 fill a batch and leave; 2, 3 and 4 wait in the queue; 5 finds it full.
    for (let i = 0; i < 6; i++) tracer.startSpan(`span ${i}`).end();
    open();
    await processor.forceFlush();
    tracer.startSpan('span 6').end();
    await processor.forceFlush();
    await loopbackSettled();

    expect(sink.spans().map((s) => s.name)).toEqual(['span 0', 'span 1', 'span 2', 'span 3', 'span 4', 'span 6']);
    expect(sink.requests('traces').map((r) => r.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.length)).toEqual([
      2, 2, 1, 1,
    ]);
    expect(warnings.filter((w) => w.includes('spans were dropped'))).toEqual([
      expect.stringContaining('1 spans were dropped: more than OTEL_BSP_MAX_QUEUE_SIZE (3)'),
    ]);
  });

  it('leaves out unsampled spans, exports a span nobody flushes after the scheduled delay, and at shutdown', async () => {
    const sink = await startSink();
    const sampledOff = new BasicTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [processorFor(sink)],
    });
    sampledOff.getTracer('t').startSpan('not sampled').end();
    await sampledOff.forceFlush();

    const processor = processorFor(sink, { scheduledDelayMillis: 50 });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('t');
    tracer.startSpan('late').end();
    await vi.waitFor(() => expect(sink.spans().map((s) => s.name)).toEqual(['late']), { timeout: 2000 });

    tracer.startSpan('last').end();
    await processor.shutdown();
    await loopbackSettled();
    expect(sink.spans().map((s) => s.name)).toEqual(['late', 'last']);
    // Shut down: nothing more is taken.
    tracer.startSpan('after').end();
    await processor.forceFlush();
    expect(sink.spans()).toHaveLength(2);
  });

  it('resolves a flush when nobody listens (the failure goes to stderr, once)', async () => {
    const sink = await startSink();
    const port = new URL(sink.url).port;
    await cleanups.pop()!();
    const lines = instrumentationStderr();
    const transport = new LoopbackOtlpTransport(`http://127.0.0.1:${port}/v1/traces`, async () => ({}));
    const processor = new LoopbackSpanProcessor(transport);
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('t');
    tracer.startSpan('lost').end();
    await expect(processor.forceFlush()).resolves.toBeUndefined();
    expect(lines.filter((l) => l.includes('failed'))).toHaveLength(1);
  });
});
