import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../extension-src/otlp/proto.js';
import type {
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  KeyValue,
} from '../../../extension-src/otlp/types.js';
import { encodeLogs, encodeMetrics, encodeTraces } from '../../../extension-src/platform/encode.js';
import { platformHarness } from './harness.js';
import { functionLog, initReport, initRuntimeDone, initStart, report, runtimeDone, start } from './telemetry-events.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const nanos = Long.fromString('1795428000123456789', true);
const id = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Every kind of attribute value, nested lists and maps included, and strings whose lengths need 2 and 3 bytes. */
const attributes: KeyValue[] = [
  { key: 'text', value: { stringValue: 'plain' } },
  { key: 'unicode', value: { stringValue: 'grüße 🚀 λ' } },
  { key: 'empty', value: { stringValue: '' } },
  { key: 'long', value: { stringValue: 'x'.repeat(300) } },
  { key: 'longer', value: { stringValue: 'y'.repeat(20_000) } },
  { key: 'flag', value: { boolValue: false } },
  { key: 'int', value: { intValue: 42 } },
  { key: 'negative', value: { intValue: -7 } },
  { key: 'big', value: { intValue: Long.fromString('9007199254740993') } },
  { key: 'double', value: { doubleValue: -0.5 } },
  { key: 'bytes', value: { bytesValue: id(3, 0xab) } },
  {
    key: 'list',
    value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }, { arrayValue: { values: [] } }] } },
  },
  { key: 'map', value: { kvlistValue: { values: [{ key: 'inner', value: { doubleValue: 1.5 } }, { key: 'none' }] } } },
];

const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'fn' } }], droppedAttributesCount: 1 };
const scope = { name: 'observed-lambda/platform', version: '1.0.0', attributes, droppedAttributesCount: 2 };

describe('platform/encode: the same protobuf bytes as the generated OTLP code', () => {
  it('writes spans with every field, events, links and status', () => {
    const request: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          resource,
          schemaUrl: 'https://opentelemetry.io/schemas/1.27.0',
          scopeSpans: [
            {
              scope,
              schemaUrl: 's',
              spans: [
                {
                  traceId: id(16, 1),
                  spanId: id(8, 2),
                  traceState: 'vendor=1',
                  parentSpanId: id(8, 3),
                  name: 'invoke',
                  kind: 2,
                  startTimeUnixNano: nanos,
                  endTimeUnixNano: nanos.add(5_000_000),
                  attributes,
                  droppedAttributesCount: 3,
                  events: [{ timeUnixNano: 1_700_000_000_000, name: 'e', attributes, droppedAttributesCount: 1 }],
                  droppedEventsCount: 4,
                  links: [{ traceId: id(16, 4), spanId: id(8, 5), traceState: 't', attributes }],
                  droppedLinksCount: 5,
                  status: { code: 2, message: 'failed' },
                },
                { name: 'bare', status: { code: 0 } },
              ],
            },
          ],
        },
      ],
    };
    expect(hex(encodeTraces(request))).toBe(hex(encodeRequest('traces', request)));
  });

  it('writes span and link flags (fixed32), which the generated code predates', () => {
    const flagged = encodeTraces({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'n', flags: 0x101 }] }] }] });
    const plain = encodeTraces({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'n' }] }] }] });
    expect(hex(flagged)).toMatch(/850101010000$/);
    // Readers that do not know the field skip it.
    expect(hex(encodeRequest('traces', decodeRequest('traces', flagged)))).toBe(hex(plain));
  });

  it('writes gauges, sums and histograms with 64-bit values as numbers and Longs', () => {
    const request: ExportMetricsServiceRequest = {
      resourceMetrics: [
        {
          resource,
          scopeMetrics: [
            {
              scope,
              metrics: [
                {
                  name: 'g',
                  description: 'a gauge',
                  unit: '1',
                  gauge: { dataPoints: [{ timeUnixNano: nanos, asDouble: 2.5, attributes, flags: 1 }] },
                },
                {
                  name: 's',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [
                      { startTimeUnixNano: nanos, timeUnixNano: nanos, asInt: 7 },
                      { asInt: -3 },
                      { asInt: Long.fromString('-9007199254740993') },
                      { asInt: 2 ** 40 + 1 },
                    ],
                  },
                },
                {
                  name: 'h',
                  unit: 's',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        startTimeUnixNano: nanos,
                        timeUnixNano: nanos,
                        count: 12,
                        sum: 0.75,
                        bucketCounts: [1, 0, Long.fromNumber(2 ** 35), 9],
                        explicitBounds: [0.005, 0.01, 0.1],
                        attributes,
                        flags: 0,
                        min: 0,
                        max: 0.5,
                      },
                      // Enough buckets that the packed fields need two-byte lengths.
                      {
                        count: Long.fromNumber(100),
                        bucketCounts: Array.from({ length: 40 }, (_, i) => i),
                        explicitBounds: Array.from({ length: 39 }, (_, i) => i / 10),
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    expect(hex(encodeMetrics(request))).toBe(hex(encodeRequest('metrics', request)));
  });

  it('writes log records with bodies of any kind and trace context', () => {
    const request: ExportLogsServiceRequest = {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              scope,
              logRecords: [
                {
                  timeUnixNano: nanos,
                  observedTimeUnixNano: nanos,
                  severityNumber: 17,
                  severityText: 'ERROR',
                  body: { kvlistValue: { values: attributes } },
                  attributes,
                  droppedAttributesCount: 1,
                  flags: 1,
                  traceId: id(16, 9),
                  spanId: id(8, 8),
                },
                { body: { stringValue: 'line' } },
              ],
            },
          ],
        },
      ],
    };
    expect(hex(encodeLogs(request))).toBe(hex(encodeRequest('logs', request)));
  });

  it("writes the platform module's own payloads as the generated code does", () => {
    const h = platformHarness();
    h.platform.handleEvents([initStart(T0), initRuntimeDone(T0 + 240), initReport(T0 + 250, 250.5)]);
    h.platform.handleEvents([
      start(T0 + 300, 'r1'),
      functionLog(T0 + 310, 'r1 says hello'),
      runtimeDone(T0 + 420, 'r1', 120),
    ]);
    h.platform.handleEvents([
      report(T0 + 425, 'r1', { durationMs: 124.5, billedDurationMs: 125, maxMemoryUsedMB: 80 }),
    ]);
    h.platform.flush({ final: true });
    const signals = new Set(h.payloads.map((p) => p.signal));
    expect(signals).toEqual(new Set(['traces', 'metrics', 'logs']));
    const encoders = { traces: encodeTraces, metrics: encodeMetrics, logs: encodeLogs } as const;
    for (const payload of h.payloads) {
      // Decoded by the generated code (span flags, which it does not know, left out) and written by both.
      const decoded = decodeRequest(payload.signal, payload.bytes);
      const ours = (encoders[payload.signal] as (r: typeof decoded) => Uint8Array)(decoded);
      expect(hex(ours)).toBe(hex(encodeRequest(payload.signal, decoded)));
    }
  });

  it('refuses what the platform module never makes rather than dropping it silently', () => {
    expect(() =>
      encodeMetrics({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x', summary: { dataPoints: [] } }] }] }],
      }),
    ).toThrow(/summaries are not written/);
    // The refused payload leaves nothing behind for the next one.
    const next = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'after' } }] }] }] };
    expect(hex(encodeLogs(next))).toBe(hex(encodeRequest('logs', next)));
  });
});
