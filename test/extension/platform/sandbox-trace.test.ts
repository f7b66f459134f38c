/**
 * One trace for the platform and the function, end to end: a plain function
 * run through the layer's exec wrapper (the OpenTelemetry SDK, with the
 * `xray-lambda` propagator taking its parent from _X_AMZN_TRACE_ID) and the
 * extension, in the sandbox with active tracing. The function's root span is
 * a child of the platform's invoke span, under the same trace id.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../extension-src/otlp/trace-context.js';
import type { Span } from '../../../extension-src/otlp/types.js';
import { attributeValue } from '../../../extension-src/resource/attributes.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../../scripts/build-instrumentation.js';
import { tempDir } from '../../sandbox/helpers.js';
import { OtlpSink } from '../../support/otlp-sink.js';
import { buildExtensionLayer, startPlatformFunction } from './extension-layer.js';

const sink = new OtlpSink();
const instrumentation = tempDir();
let extension: { dir: string; cleanup: () => void } | undefined;

beforeAll(async () => {
  [extension] = await Promise.all([
    buildExtensionLayer(),
    sink.start(),
    buildInstrumentationLayer(instrumentation.dir, join(instrumentation.dir, '..', `${WRAPPER_NAME}-maps`)),
  ]);
});

afterAll(async () => {
  await sink.stop();
  extension?.cleanup();
  instrumentation.cleanup();
});

/** Spans by instrumentation scope: the platform's or the function's. */
function spansOf(platform: boolean): Span[] {
  return sink
    .requests('traces')
    .flatMap((r) => r.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans ?? [])
    .filter((ss) => (ss.scope?.name === 'observed-lambda/platform') === platform)
    .flatMap((ss) => ss.spans ?? []);
}

describe('platform and function spans in the sandbox', () => {
  it("puts the function's root span under the platform invoke span", async () => {
    const env = await startPlatformFunction({
      functionName: 'traced-fn',
      layers: [extension!.dir, instrumentation.dir],
      tracing: 'Active',
      env: {
        AWS_LAMBDA_EXEC_WRAPPER: join(instrumentation.dir, WRAPPER_NAME),
        OTEL_PROPAGATORS: 'tracecontext,baggage,xray-lambda',
        OBSERVED_OTLP_ENDPOINT: sink.url,
      },
    });
    let requestId: string;
    try {
      const r = await env.invoke({ mode: 'ok' });
      expect(r.status).toBe('success');
      requestId = r.requestId;
    } finally {
      await env.shutdown();
    }
    const header = (env.telemetryEvents('platform.start')[0].record as { tracing: { value: string } }).tracing.value;
    const root = /Root=1-([0-9a-f]{8})-([0-9a-f]{24})/.exec(header)!;
    const parent = /Parent=([0-9a-f]{16})/.exec(header)![1];

    const invoke = spansOf(true).find(
      (s) => s.name === 'traced-fn' && attributeValue(s.attributes, 'faas.invocation_id') === requestId,
    );
    const functionRoot = spansOf(false).find(
      (s) => s.kind === 2 && attributeValue(s.attributes, 'faas.invocation_id') === requestId,
    );
    expect(invoke).toBeDefined();
    expect(functionRoot).toBeDefined();
    expect(bytesToHex(invoke!.traceId)).toBe(root[1] + root[2]);
    expect(bytesToHex(invoke!.spanId)).toBe(parent);
    expect(bytesToHex(functionRoot!.traceId)).toBe(bytesToHex(invoke!.traceId));
    expect(bytesToHex(functionRoot!.parentSpanId)).toBe(bytesToHex(invoke!.spanId));
    // In time, the function's span lies inside the platform's.
    expect(BigInt(String(functionRoot!.startTimeUnixNano))).toBeGreaterThanOrEqual(
      BigInt(String(invoke!.startTimeUnixNano)),
    );
    expect(BigInt(String(functionRoot!.endTimeUnixNano))).toBeLessThanOrEqual(BigInt(String(invoke!.endTimeUnixNano)));
  });
});
