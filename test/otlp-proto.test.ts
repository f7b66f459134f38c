import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../extension-src/otlp/proto.js';

describe('OTLP protobuf codec', () => {
  it('keeps nanosecond timestamps exact through encode and decode', () => {
    const bytes = encodeRequest('traces', {
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ name: 'op', traceId: new Uint8Array(16).fill(7), startTimeUnixNano: 1_700_000_000_000 }] },
          ],
        },
      ],
    });
    const exact = encodeRequest('metrics', {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: 'm', gauge: { dataPoints: [{ timeUnixNano: '1700000000123456789' as never, asInt: 3 }] } },
              ],
            },
          ],
        },
      ],
    });
    const point = decodeRequest('metrics', exact).resourceMetrics?.[0].scopeMetrics?.[0].metrics?.[0].gauge
      ?.dataPoints?.[0];
    expect(String(point?.timeUnixNano)).toBe('1700000000123456789');
    expect(decodeRequest('traces', bytes).resourceSpans?.[0].scopeSpans?.[0].spans?.[0].name).toBe('op');
  });

  it('rejects truncated protobuf', () => {
    const bytes = encodeRequest('logs', {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 'INFO' }] }] }],
    });
    expect(() => decodeRequest('logs', bytes.subarray(0, bytes.length - 2))).toThrow();
  });
});
