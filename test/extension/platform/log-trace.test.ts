/**
 * Every function log line of a request joins the request's trace: lines that
 * name the request (Lambda's text format) and lines that do not (raw stdout,
 * placed by the last platform.start before them), whether they arrive before
 * the function's flushed notice (they wait for it) or come from a function
 * without the wrapper (runtimeDone settles the trace from Lambda's header).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../extension-src/otlp/trace-context.js';
import { attributeValue } from '../../../extension-src/resource/attributes.js';
import { platformHarness } from './harness.js';
import { functionLog, runtimeDone, start, tracing, xrayHeader } from './telemetry-events.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const REQ = '6d68ca91-49c9-448d-89b8-7ca3e6dc66aa';
const ROOT = '1-6942a1b0-5f0c3d2e1a9b8c7d6e5f4a3b';
const PARENT = '3c2b1a0f9e8d7c6b';
const nodeLine = (message: string) => `2026-11-23T10:00:00.002Z\t${REQ}\tINFO\t${message}\n`;

function invoked() {
  const h = platformHarness();
  const header = xrayHeader(ROOT, PARENT, false);
  h.platform.noteInvoke({ requestId: REQ, tracing: { type: 'X-Amzn-Trace-Id', value: header } });
  return { h, header };
}

describe('function log lines in their request trace', () => {
  it("holds lines that arrive before the notice, then gives them the function's trace and span", () => {
    const { h, header } = invoked();
    h.platform.handleEvents([
      start(T0, REQ, tracing(header)),
      functionLog(T0 + 1, nodeLine('handling')),
      functionLog(T0 + 2, 'raw line'),
    ]);
    expect(h.logs()).toHaveLength(0);
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    h.platform.noteFunctionTrace(REQ, {
      traceId: hexToBytes(callerTrace),
      spanId: hexToBytes(PARENT),
      parentSpanId: hexToBytes('00f067aa0ba902b7'),
      functionSpanId: hexToBytes('1111222233334444'),
      sampled: true,
    });
    const lines = h.logs();
    expect(lines.map((l) => l.body?.stringValue)).toEqual(['handling', 'raw line']);
    for (const line of lines) {
      expect(bytesToHex(line.traceId)).toBe(callerTrace);
      expect(bytesToHex(line.spanId)).toBe('1111222233334444');
      expect(line.flags).toBe(1);
      expect(attributeValue(line.attributes, 'faas.invocation_id')).toBe(REQ);
    }
    // Lines after the notice get the trace at once.
    h.platform.handleEvents([functionLog(T0 + 3, 'late raw line')]);
    expect(bytesToHex(h.logs()[2].traceId)).toBe(callerTrace);
  });

  it("settles a function without the wrapper at runtimeDone, from Lambda's header", () => {
    const { h, header } = invoked();
    h.platform.handleEvents([start(T0, REQ, tracing(header)), functionLog(T0 + 1, 'raw line')]);
    expect(h.logs()).toHaveLength(0);
    h.platform.handleEvents([runtimeDone(T0 + 20, REQ, 20)]);
    const [line] = h.logs();
    expect(bytesToHex(line.traceId)).toBe(ROOT.slice(2).replace('-', ''));
    expect(bytesToHex(line.spanId)).toBe(PARENT);
    expect(line.flags).toBe(0);
  });

  it('lets waiting lines go with the final flush', () => {
    const { h, header } = invoked();
    h.platform.handleEvents([start(T0, REQ, tracing(header)), functionLog(T0 + 1, 'raw line')]);
    h.platform.flush();
    expect(h.logs()).toHaveLength(0);
    h.platform.flush({ final: true });
    expect(bytesToHex(h.logs()[0].traceId)).toBe(ROOT.slice(2).replace('-', ''));
  });

  it("waits for the notice, not runtimeDone, once the wrapper's started notice said it sends them", () => {
    const { h, header } = invoked();
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const fromWrapper = {
      traceId: hexToBytes(callerTrace),
      spanId: hexToBytes(PARENT),
      functionSpanId: hexToBytes('1111222233334444'),
      sampled: true,
    };
    h.platform.handleEvents([start(T0, REQ, tracing(header)), functionLog(T0 + 1, 'raw line')]);
    h.platform.noteFunctionTrace(REQ, fromWrapper);
    expect(bytesToHex(h.logs()[0].traceId)).toBe(callerTrace);
    // The next request: runtimeDone reaches the extension before that request's flushed notice.
    const next = '7e79db02-5ada-4b9e-9a2d-8db4f7e1a001';
    h.platform.noteInvoke({ requestId: next, tracing: { type: 'X-Amzn-Trace-Id', value: header } });
    h.platform.handleEvents([start(T0 + 50, next, tracing(header)), functionLog(T0 + 51, 'next line')]);
    h.platform.handleEvents([runtimeDone(T0 + 70, next, 20)]);
    expect(h.logs()).toHaveLength(1);
    h.platform.noteFunctionTrace(next, fromWrapper);
    expect(h.logs().map((l) => bytesToHex(l.traceId))).toEqual([callerTrace, callerTrace]);
  });
});
