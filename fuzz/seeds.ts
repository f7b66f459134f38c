/** Valid inputs the mutations start from: OTLP requests of every signal and Telemetry API batches as Lambda sends them. */
import { encodeRequest } from '../extension-src/otlp/proto.js';
import type { AnyValue, KeyValue } from '../extension-src/otlp/types.js';

const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;
const T = Date.UTC(2026, 10, 1, 12, 0, 0);

const every: AnyValue[] = [
  { stringValue: 'text' },
  { boolValue: true },
  { intValue: '-9223372036854775808' as never },
  { doubleValue: 1.5 },
  { bytesValue: Uint8Array.from([1, 2, 3]) },
  { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 7 }] } },
  { kvlistValue: { values: [{ key: 'nested', value: { stringValue: 'v' } }] } },
];
const attrs = (prefix: string): KeyValue[] => every.map((value, i) => ({ key: `${prefix}.${i}`, value }));
const resource = {
  attributes: [
    { key: 'service.name', value: { stringValue: 'orders' } },
    { key: 'faas.instance', value: { stringValue: '2026/11/01/[$LATEST]abc' } },
    ...attrs('res'),
  ],
};
const scope = { name: 'fuzz', version: '1.0.0', attributes: attrs('scope') };
const traceId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const spanId = Uint8Array.from({ length: 8 }, (_, i) => i + 1);

export function otlpTraces(): Uint8Array {
  return encodeRequest('traces', {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope,
            spans: [
              {
                traceId,
                spanId,
                parentSpanId: spanId,
                name: 'GET /orders',
                kind: 2,
                startTimeUnixNano: nanos(T),
                endTimeUnixNano: nanos(T + 12),
                attributes: attrs('span'),
                events: [{ name: 'e', timeUnixNano: nanos(T + 1), attributes: attrs('event') }],
                links: [{ traceId, spanId, attributes: attrs('link') }],
                status: { code: 2, message: 'boom' },
              },
            ],
          },
        ],
      },
    ],
  });
}

export function otlpMetrics(): Uint8Array {
  const point = { attributes: attrs('point'), startTimeUnixNano: nanos(T - 1000), timeUnixNano: nanos(T) };
  return encodeRequest('metrics', {
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope,
            metrics: [
              {
                name: 'requests',
                unit: '1',
                sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ ...point, asInt: 5 }] },
              },
              {
                name: 'delta',
                sum: { aggregationTemporality: 1, isMonotonic: false, dataPoints: [{ ...point, asDouble: -2.5 }] },
              },
              {
                name: 'temp',
                unit: 'Cel',
                gauge: {
                  dataPoints: [
                    { ...point, asDouble: 21.5, exemplars: [{ asDouble: 1, timeUnixNano: nanos(T), traceId, spanId }] },
                  ],
                },
              },
              {
                name: 'latency',
                unit: 's',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [
                    { ...point, count: 6, sum: 3, explicitBounds: [0.1, 1], bucketCounts: [1, 2, 3], min: 0, max: 2 },
                  ],
                },
              },
              {
                name: 'size',
                unit: 'By',
                exponentialHistogram: {
                  aggregationTemporality: 1,
                  dataPoints: [
                    {
                      ...point,
                      count: 4,
                      sum: 10,
                      scale: 3,
                      zeroCount: 1,
                      positive: { offset: -2, bucketCounts: [1, 0, 2] },
                      negative: { offset: 1, bucketCounts: [0] },
                    },
                  ],
                },
              },
              {
                name: 'summary',
                summary: {
                  dataPoints: [
                    {
                      ...point,
                      count: 3,
                      sum: 6,
                      quantileValues: [
                        { quantile: 0.5, value: 2 },
                        { quantile: 1, value: 3 },
                      ],
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
}

export function otlpLogs(): Uint8Array {
  return encodeRequest('logs', {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope,
            logRecords: [
              {
                timeUnixNano: nanos(T),
                observedTimeUnixNano: nanos(T),
                severityNumber: 9,
                severityText: 'INFO',
                body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'hello' } }] } },
                attributes: attrs('log'),
                traceId,
                spanId,
                flags: 1,
              },
            ],
          },
        ],
      },
    ],
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const trace = {
  type: 'X-Amzn-Trace-Id',
  value: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
};

/** Telemetry API batches (schema 2022-12-13) of one cold-start invocation, split the ways Lambda may split them. */
export function telemetryBatches(): Uint8Array[] {
  const id = 'c6af9ac6-7b61-11e6-9a41-93e812345678';
  const events = [
    {
      time: iso(T),
      type: 'platform.initStart',
      record: {
        initializationType: 'on-demand',
        phase: 'init',
        runtimeVersion: 'nodejs:22.v40',
        functionName: 'orders',
        functionVersion: '$LATEST',
      },
    },
    {
      time: iso(T + 200),
      type: 'platform.initRuntimeDone',
      record: { initializationType: 'on-demand', phase: 'init', status: 'success' },
    },
    {
      time: iso(T + 201),
      type: 'platform.initReport',
      record: { initializationType: 'on-demand', phase: 'init', status: 'success', metrics: { durationMs: 200.5 } },
    },
    { time: iso(T + 210), type: 'platform.start', record: { requestId: id, version: '$LATEST', tracing: trace } },
    {
      time: iso(T + 211),
      type: 'function',
      record: '{"level":"INFO","message":"hi","traceId":"1-5759e988-bd862e3fe1be46a994272793"}',
    },
    {
      time: iso(T + 212),
      type: 'function',
      record: { timestamp: iso(T + 212), level: 'ERROR', message: 'structured', requestId: id },
    },
    { time: iso(T + 213), type: 'extension', record: 'observed-lambda ready' },
    {
      time: iso(T + 260),
      type: 'platform.runtimeDone',
      record: {
        requestId: id,
        status: 'success',
        tracing: { ...trace, spanId: '53995c3f42cd8ad8' },
        spans: [
          { name: 'responseLatency', start: iso(T + 211), durationMs: 40.1 },
          { name: 'responseDuration', start: iso(T + 251), durationMs: 0.5 },
        ],
        metrics: { durationMs: 50.2, producedBytes: 12 },
      },
    },
    {
      time: iso(T + 262),
      type: 'platform.report',
      record: {
        requestId: id,
        status: 'success',
        metrics: {
          durationMs: 52,
          billedDurationMs: 53,
          memorySizeMB: 128,
          maxMemoryUsedMB: 70,
          initDurationMs: 200.5,
        },
        tracing: trace,
      },
    },
    {
      time: iso(T + 300),
      type: 'platform.logsDropped',
      record: { reason: 'buffer full', droppedRecords: 3, droppedBytes: 400 },
    },
  ];
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
  return [enc(events), enc(events.slice(0, 4)), enc(events.slice(4)), enc([events[7], events[3]])];
}
