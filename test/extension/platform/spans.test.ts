import { describe, expect, it } from 'vitest';
import { bytesToHex, parseXRayHeader } from '../../../extension-src/otlp/trace-context.js';
import { SpanKind, StatusCode } from '../../../extension-src/otlp/types.js';
import { attributeValue } from '../../../extension-src/resource/attributes.js';
import { platformHarness } from './harness.js';
import {
  FUNCTION_NAME,
  initReport,
  initRuntimeDone,
  initStart,
  report,
  runtimeDone,
  start,
  tracing,
  xrayHeader,
} from './telemetry-events.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const ROOT = '1-62e900b2-710d76f009d6e7785905449a';
const TRACE_HEX = '62e900b2710d76f009d6e7785905449a';
const FUNCTION_SEGMENT = '0efbd19962d95b05';

describe('X-Ray header', () => {
  it('becomes a W3C trace id (epoch and random part, no version or dashes) and a parent span id', () => {
    const ctx = parseXRayHeader(`Root=${ROOT};Parent=${FUNCTION_SEGMENT};Sampled=1;Lineage=a:1`);
    expect(bytesToHex(ctx?.traceId)).toBe(TRACE_HEX);
    expect(bytesToHex(ctx?.parentId)).toBe(FUNCTION_SEGMENT);
    expect(ctx?.sampled).toBe(true);
    expect(parseXRayHeader('Root=2-bad;Parent=x')).toBeUndefined();
  });
});

describe('platform spans', () => {
  function coldInvocation(trace: ReturnType<typeof tracing>) {
    const h = platformHarness();
    h.platform.handleEvents([initStart(T0), initRuntimeDone(T0 + 200), initReport(T0 + 210, 210)]);
    h.platform.noteInvoke({
      requestId: 'r1',
      invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${FUNCTION_NAME}`,
      tracing: { type: 'X-Amzn-Trace-Id', value: xrayHeader(ROOT, FUNCTION_SEGMENT) },
    });
    h.platform.handleEvents([start(T0 + 300, 'r1', trace), runtimeDone(T0 + 400, 'r1', 100, { trace })]);
    h.platform.handleEvents([
      report(
        T0 + 405,
        'r1',
        { durationMs: 104, billedDurationMs: 104, maxMemoryUsedMB: 80, initDurationMs: 210 },
        { trace },
      ),
    ]);
    return h;
  }

  it("makes the invoke span the function segment: its id is the runtime header's Parent", () => {
    // Telemetry API carries the same header as the runtime, plus a span id of its own.
    const h = coldInvocation(tracing(xrayHeader(ROOT, FUNCTION_SEGMENT), '54565fb41ac79632'));
    const spans = h.spans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const invoke = byName.get(FUNCTION_NAME)!;
    expect(invoke.kind).toBe(SpanKind.SERVER);
    expect(bytesToHex(invoke.traceId)).toBe(TRACE_HEX);
    expect(bytesToHex(invoke.spanId)).toBe(FUNCTION_SEGMENT);
    expect(invoke.parentSpanId?.length ?? 0).toBe(0);
    expect(attributeValue(invoke.attributes, 'faas.invocation_id')).toBe('r1');
    expect(attributeValue(invoke.attributes, 'faas.coldstart')).toBe(true);
    expect(Number(invoke.endTimeUnixNano) - Number(invoke.startTimeUnixNano)).toBeCloseTo(104e6, -3);

    const runtime = byName.get('lambda.runtime')!;
    expect(bytesToHex(runtime.parentSpanId)).toBe(FUNCTION_SEGMENT);
    expect(bytesToHex(runtime.spanId)).toBe('54565fb41ac79632');
    for (const phase of ['lambda.response_latency', 'lambda.response_duration']) {
      expect(bytesToHex(byName.get(phase)?.parentSpanId)).toBe('54565fb41ac79632');
    }
    const overhead = byName.get('lambda.post_runtime')!;
    expect(bytesToHex(overhead.parentSpanId)).toBe(FUNCTION_SEGMENT);
    expect(Number(overhead.endTimeUnixNano) - Number(overhead.startTimeUnixNano)).toBeCloseTo(4e6, -3);

    const init = byName.get('lambda.init')!;
    expect(bytesToHex(init.traceId)).toBe(TRACE_HEX);
    expect(bytesToHex(init.parentSpanId)).toBe(FUNCTION_SEGMENT);
    expect(attributeValue(init.attributes, 'aws.lambda.init.type')).toBe('on-demand');
    expect(attributeValue(init.attributes, 'aws.lambda.init.phase')).toBe('init');
    expect(Number(init.endTimeUnixNano) - Number(init.startTimeUnixNano)).toBeCloseTo(210e6, -3);
    expect(new Set(spans.map((s) => bytesToHex(s.traceId)))).toEqual(new Set([TRACE_HEX]));
  });

  it("takes the Telemetry API header's Parent as the invoke span's parent when its spanId is the function segment", () => {
    const upstream = 'aaaabbbbccccdddd';
    const h = coldInvocation(tracing(xrayHeader(ROOT, upstream), FUNCTION_SEGMENT));
    const invoke = h.spans().find((s) => s.name === FUNCTION_NAME)!;
    expect(bytesToHex(invoke.spanId)).toBe(FUNCTION_SEGMENT);
    expect(bytesToHex(invoke.parentSpanId)).toBe(upstream);
    const runtime = h.spans().find((s) => s.name === 'lambda.runtime')!;
    expect(bytesToHex(runtime.spanId)).not.toBe(FUNCTION_SEGMENT);
  });

  it('marks failed invocations and gives untraced invocations a trace of their own', () => {
    const h = platformHarness();
    h.platform.handleEvents([
      start(T0, 'bad'),
      runtimeDone(T0 + 5, 'bad', 5, { status: 'error', errorType: 'Runtime.UnhandledPromiseRejection' }),
      report(T0 + 6, 'bad', { durationMs: 6, billedDurationMs: 6, maxMemoryUsedMB: 70 }, { status: 'error' }),
    ]);
    const invoke = h.spans().find((s) => s.name === FUNCTION_NAME)!;
    expect(invoke.status?.code).toBe(StatusCode.ERROR);
    expect(invoke.status?.message).toContain('Runtime.UnhandledPromiseRejection');
    expect(attributeValue(invoke.attributes, 'error.type')).toBe('Runtime.UnhandledPromiseRejection');
    expect(invoke.traceId?.length).toBe(16);
    expect(invoke.parentSpanId?.length ?? 0).toBe(0);
    const runtime = h.spans().find((s) => s.name === 'lambda.runtime')!;
    expect(bytesToHex(runtime.parentSpanId)).toBe(bytesToHex(invoke.spanId));
  });

  it('keeps a provisioned-concurrency init out of the first invocation', () => {
    const h = platformHarness();
    h.platform.handleEvents([initStart(T0, 'provisioned-concurrency'), initReport(T0 + 500, 500)]);
    h.platform.handleEvents([
      start(T0 + 60_000, 'p1', tracing(xrayHeader(ROOT, FUNCTION_SEGMENT))),
      runtimeDone(T0 + 60_010, 'p1', 10),
      report(T0 + 60_011, 'p1', { durationMs: 11, billedDurationMs: 11, maxMemoryUsedMB: 70 }),
    ]);
    h.platform.flush();
    const init = h.spans().find((s) => s.name === 'lambda.init')!;
    expect(bytesToHex(init.traceId)).not.toBe(TRACE_HEX);
    expect(h.counter('faas.coldstarts')).toBe(0);
    expect(Number(h.histogram('faas.init_duration')?.count)).toBe(1);
  });
});
