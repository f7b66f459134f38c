import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../extension-src/otlp/trace-context.js';
import { attributeValue } from '../../../extension-src/resource/attributes.js';
import { platformHarness } from './harness.js';
import { extensionLog, functionLog } from './telemetry-events.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const REQ = '6d68ca91-49c9-448d-89b8-7ca3e6dc66aa';

describe('function and extension logs', () => {
  it("reads the Node runtime's text format: time, request id, level, message", () => {
    const h = platformHarness();
    h.platform.handleEvents([functionLog(T0 + 5, `2026-11-23T10:00:00.002Z\t${REQ}\tWARN\tdisk almost full\n`)]);
    const [log] = h.logs();
    expect(log.severityText).toBe('WARN');
    expect(log.severityNumber).toBe(13);
    expect(log.body?.stringValue).toBe('disk almost full');
    expect(attributeValue(log.attributes, 'faas.invocation_id')).toBe(REQ);
    expect(attributeValue(log.attributes, 'aws.lambda.log.source')).toBe('function');
    expect(String(log.timeUnixNano)).toBe(String(BigInt(T0 + 2) * 1_000_000n));
    expect(String(log.observedTimeUnixNano)).toBe(String(BigInt(T0 + 5) * 1_000_000n));
  });

  it("reads Lambda's JSON log format with a trace id, from an object or a string", () => {
    const h = platformHarness();
    const line = {
      timestamp: '2026-11-23T10:00:00.010Z',
      level: 'ERROR',
      requestId: REQ,
      message: 'payment failed',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      orderId: 42,
    };
    h.platform.handleEvents([functionLog(T0 + 20, line), functionLog(T0 + 21, JSON.stringify(line))]);
    for (const log of h.logs()) {
      expect(log.severityNumber).toBe(17);
      expect(log.severityText).toBe('ERROR');
      expect(log.body?.stringValue).toBe('payment failed');
      expect(bytesToHex(log.traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(bytesToHex(log.spanId)).toBe('00f067aa0ba902b7');
      expect(attributeValue(log.attributes, 'faas.invocation_id')).toBe(REQ);
      expect(attributeValue(log.attributes, 'orderId')).toBe(42);
    }
    expect(h.logs()).toHaveLength(2);
  });

  it("finds the trace id inside a message that is a logger's own JSON line, in either format", () => {
    const h = platformHarness();
    const own = JSON.stringify({
      msg: 'charged',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    h.platform.handleEvents([
      functionLog(T0, { timestamp: '2026-11-23T10:00:00.000Z', level: 'WARN', requestId: REQ, message: own }),
      functionLog(T0, `2026-11-23T10:00:00.002Z\t${REQ}\tINFO\t${own}\n`),
    ]);
    for (const log of h.logs()) {
      expect(bytesToHex(log.traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(bytesToHex(log.spanId)).toBe('00f067aa0ba902b7');
    }
    expect(h.logs().map((l) => l.severityText)).toEqual(['WARN', 'INFO']);
  });

  it('turns an X-Ray trace id in a JSON line into the W3C trace id', () => {
    const h = platformHarness();
    h.platform.handleEvents([
      functionLog(T0, { level: 'INFO', message: 'x', xray_trace_id: '1-62e900b2-710d76f009d6e7785905449a' }),
    ]);
    expect(bytesToHex(h.logs()[0].traceId)).toBe('62e900b2710d76f009d6e7785905449a');
  });

  it('keeps plain lines and [LEVEL] prefixed lines, from functions and extensions', () => {
    const h = platformHarness();
    h.platform.handleEvents([
      functionLog(T0, 'just text'),
      extensionLog(T0, '[INFO] Hello world, I am an extension!'),
      functionLog(T0, `[ERROR]\t2026-11-23T10:00:00.001Z\t${REQ}\tboom`),
    ]);
    const [plain, ext, python] = h.logs();
    expect(plain.body?.stringValue).toBe('just text');
    expect(plain.severityNumber ?? 0).toBe(0);
    expect(ext.severityText).toBe('INFO');
    expect(ext.body?.stringValue).toBe('Hello world, I am an extension!');
    expect(attributeValue(ext.attributes, 'aws.lambda.log.source')).toBe('extension');
    expect(python.severityNumber).toBe(17);
    expect(attributeValue(python.attributes, 'faas.invocation_id')).toBe(REQ);
    // One batch, one payload.
    expect(h.payloads.filter((p) => p.signal === 'logs')).toHaveLength(1);
  });
});
