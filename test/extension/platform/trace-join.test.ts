/**
 * The function's own trace and the platform's spans form one trace: a
 * function whose OpenTelemetry SDK takes its parent from _X_AMZN_TRACE_ID (the
 * X-Ray propagator, as the `xray-lambda` propagator does) gets a root span
 * whose parent is the platform's invoke span.
 */
import { SpanKind as ApiSpanKind, defaultTextMapGetter, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../extension-src/otlp/trace-context.js';
import { OtlpSink } from '../../support/otlp-sink.js';
import { platformHarness } from './harness.js';
import { FUNCTION_NAME, report, runtimeDone, start, tracing, xrayHeader } from './telemetry-events.js';

const ROOT = '1-6942a1b0-5f0c3d2e1a9b8c7d6e5f4a3b';
const PARENT = '3c2b1a0f9e8d7c6b';

describe('platform and function spans in one trace', () => {
  let sink: OtlpSink;
  beforeAll(async () => {
    sink = await new OtlpSink().start();
  });
  afterAll(async () => {
    await sink.stop();
  });

  it("parents the function's root span on the platform invoke span", async () => {
    const header = xrayHeader(ROOT, PARENT);
    // Function side: the real SDK, parent extracted from the header Lambda put in _X_AMZN_TRACE_ID.
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': FUNCTION_NAME }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${sink.url}/v1/traces` }))],
    });
    const xray = new AWSXRayPropagator();
    const parent = xray.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': header }, defaultTextMapGetter);
    const tracer = provider.getTracer('handler');
    const root = tracer.startSpan(FUNCTION_NAME, { kind: ApiSpanKind.SERVER }, parent);
    tracer.startSpan('db.query', {}, trace.setSpan(parent, root)).end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();

    // Extension side: the INVOKE event and the Telemetry API events of the same request.
    const t0 = Date.now();
    const h = platformHarness();
    h.platform.noteInvoke({ requestId: 'req-1', tracing: { type: 'X-Amzn-Trace-Id', value: header } });
    const telemetryTracing = tracing(header, 'a1b2c3d4e5f60718');
    h.platform.handleEvents([start(t0, 'req-1', telemetryTracing), runtimeDone(t0 + 20, 'req-1', 20)]);
    h.platform.handleEvents([report(t0 + 22, 'req-1', { durationMs: 22, billedDurationMs: 22, maxMemoryUsedMB: 90 })]);

    const functionRoot = sink.spans().find((s) => s.name === FUNCTION_NAME)!;
    const functionChild = sink.spans().find((s) => s.name === 'db.query')!;
    const invoke = h.spans().find((s) => s.name === FUNCTION_NAME)!;
    expect(bytesToHex(functionRoot.traceId)).toBe(bytesToHex(invoke.traceId));
    expect(bytesToHex(functionRoot.traceId)).toBe(ROOT.slice(2).replace('-', ''));
    expect(bytesToHex(functionRoot.parentSpanId)).toBe(bytesToHex(invoke.spanId));
    expect(bytesToHex(functionChild.parentSpanId)).toBe(bytesToHex(functionRoot.spanId));
    // The platform's runtime span is the function root's sibling, both under the invoke span.
    const runtime = h.spans().find((s) => s.name === 'lambda.runtime')!;
    expect(bytesToHex(runtime.parentSpanId)).toBe(bytesToHex(invoke.spanId));
  });
});
