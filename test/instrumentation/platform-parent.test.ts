/**
 * Where the wrapper puts the invocation span: under the platform's invoke
 * span, in the caller's trace, Lambda's X-Ray trace or a new one, with the
 * sampling decision of the caller, of X-Ray when it sampled, or of the SDK's
 * sampler (OTEL_TRACES_SAMPLER) for a new trace.
 */
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { lambdaXRayContext, placeInvocation } from '../../instrumentation-src/handler/platform-parent.js';
import { samplerFromEnvironment } from '../../instrumentation-src/sdk/sampler.js';
import { XRayLambdaPropagator } from '../../instrumentation-src/sdk/xray-lambda-propagator.js';

const facts = { name: 'GET /orders', kind: SpanKind.SERVER, attributes: {}, links: [] };
const XRAY_TRACE = '5759e988bd862e3fe1be46a994272793';
const xrayHeader = (sampled: 0 | 1) =>
  `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=${sampled}`;
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const alwaysOn = samplerFromEnvironment({});
const ratioZero = samplerFromEnvironment({
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: '0',
});

function callerContext(flags: '01' | '00') {
  return new W3CTraceContextPropagator().extract(
    ROOT_CONTEXT,
    { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-${flags}` },
    defaultTextMapGetter,
  );
}

const flagsOf = (placed: ReturnType<typeof placeInvocation>) => trace.getSpanContext(placed.parent)?.traceFlags;

describe('placing the invocation under the platform span', () => {
  it("takes a caller's trace, with X-Ray's Parent as the platform span and the caller's decision", () => {
    for (const flags of ['01', '00'] as const) {
      const placed = placeInvocation(callerContext(flags), facts, alwaysOn, lambdaXRayContext(xrayHeader(1)));
      expect(placed.platform).toEqual({ traceId: CALLER_TRACE, spanId: '53995c3f42cd8ad8', parentSpanId: CALLER_SPAN });
      expect(flagsOf(placed)).toBe(flags === '01' ? TraceFlags.SAMPLED : TraceFlags.NONE);
    }
  });

  it("takes X-Ray's trace without a caller: sampled when X-Ray sampled, else as the sampler decides", () => {
    const sampled = placeInvocation(ROOT_CONTEXT, facts, ratioZero, lambdaXRayContext(xrayHeader(1)));
    expect(sampled.platform).toEqual({ traceId: XRAY_TRACE, spanId: '53995c3f42cd8ad8' });
    expect(flagsOf(sampled)).toBe(TraceFlags.SAMPLED);
    const notSampled = lambdaXRayContext(xrayHeader(0));
    expect(flagsOf(placeInvocation(ROOT_CONTEXT, facts, alwaysOn, notSampled))).toBe(TraceFlags.SAMPLED);
    expect(flagsOf(placeInvocation(ROOT_CONTEXT, facts, ratioZero, notSampled))).toBe(TraceFlags.NONE);
  });

  it('follows X-Ray Sampled=0 when the xray-lambda propagator took the header as the parent', () => {
    process.env._X_AMZN_TRACE_ID = xrayHeader(0);
    try {
      const incoming = new XRayLambdaPropagator().extract(ROOT_CONTEXT, {}, defaultTextMapGetter);
      const placed = placeInvocation(incoming, facts, alwaysOn, lambdaXRayContext());
      expect(placed.platform).toEqual({ traceId: XRAY_TRACE, spanId: '53995c3f42cd8ad8' });
      expect(flagsOf(placed)).toBe(TraceFlags.NONE);
    } finally {
      delete process.env._X_AMZN_TRACE_ID;
    }
  });

  it('starts a new trace without any header, as the sampler decides', () => {
    const a = placeInvocation(ROOT_CONTEXT, facts, alwaysOn, undefined);
    const b = placeInvocation(ROOT_CONTEXT, facts, alwaysOn, undefined);
    expect(a.platform.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.platform.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.platform.traceId).not.toBe(b.platform.traceId);
    expect(a.platform.parentSpanId).toBeUndefined();
    expect(flagsOf(a)).toBe(TraceFlags.SAMPLED);
    expect(flagsOf(placeInvocation(ROOT_CONTEXT, facts, ratioZero, undefined))).toBe(TraceFlags.NONE);
  });
});
