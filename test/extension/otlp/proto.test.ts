import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../extension-src/otlp/proto.js';

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

  it('decodes metrics 64-bit integers exactly: numbers below 2^53, Longs above, from Buffers and plain arrays', () => {
    const bytes = encodeRequest('metrics', {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'ints',
                  gauge: {
                    dataPoints: [
                      { timeUnixNano: '1700000000123456789' as never, asInt: -5 },
                      { timeUnixNano: '1700000000123456790' as never, asInt: '9007199254740993' as never },
                      { timeUnixNano: '1700000000123456791' as never, asInt: '-9007199254740993' as never },
                    ],
                  },
                },
                {
                  name: 'h',
                  histogram: {
                    dataPoints: [
                      {
                        timeUnixNano: '1700000000123456789' as never,
                        count: '18446744073709551615' as never,
                        bucketCounts: [0, 7, '9007199254740991' as never],
                        explicitBounds: [1, 2],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    for (const input of [Buffer.from(bytes), new Uint8Array(bytes)]) {
      const [ints, h] = decodeRequest('metrics', input).resourceMetrics?.[0].scopeMetrics?.[0].metrics ?? [];
      const points = ints.gauge?.dataPoints ?? [];
      expect(points.map((p) => String(p.asInt))).toEqual(['-5', '9007199254740993', '-9007199254740993']);
      expect(typeof points[0].asInt).toBe('number');
      expect(points.map((p) => String(p.timeUnixNano))).toEqual([
        '1700000000123456789',
        '1700000000123456790',
        '1700000000123456791',
      ]);
      const hp = h.histogram?.dataPoints?.[0];
      expect(String(hp?.count)).toBe('18446744073709551615');
      expect(hp?.bucketCounts).toEqual([0, 7, 9007199254740991]);
    }
  });

  it('rejects truncated protobuf', () => {
    const bytes = encodeRequest('logs', {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 'INFO' }] }] }],
    });
    expect(() => decodeRequest('logs', bytes.subarray(0, bytes.length - 2))).toThrow();
    const metrics = encodeRequest('metrics', {
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ timeUnixNano: 1, asInt: 3 }] } }] }] },
      ],
    });
    // Cut inside the fixed64 value: the reader must refuse, not read past the end.
    expect(() => decodeRequest('metrics', metrics.subarray(0, metrics.length - 3))).toThrow(RangeError);
  });
});
