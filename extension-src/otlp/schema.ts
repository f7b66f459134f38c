/**
 * The OTLP v1 message schema as a table (field numbers and types from
 * opentelemetry-proto), for the code that works on the wire format directly:
 * the JSON <-> protobuf conversion and the receiver's validation walk. Fields
 * newer than the generated codec (Link.flags, LogRecord.event_name,
 * Resource.entity_refs) are included; unknown fields are skipped, as protobuf
 * requires.
 */
import type { Signal } from './types.js';

export type FieldKind =
  | 'string'
  | 'bool'
  | 'int64'
  | 'uint64'
  | 'int32'
  | 'uint32'
  | 'sint32'
  | 'enum'
  | 'fixed64'
  | 'sfixed64'
  | 'double'
  | 'fixed32'
  | 'bytes'
  /** bytes written in OTLP JSON as hex (trace and span ids). */
  | 'id'
  | 'message';

export interface FieldDef {
  readonly name: string;
  readonly no: number;
  readonly kind: FieldKind;
  readonly repeated?: boolean;
  /** Message type name, for kind "message". */
  readonly type?: string;
  /** Presence matters (`optional` or `oneof`): written even when it holds the default value. */
  readonly presence?: boolean;
}

export const WIRE_TYPE: Record<FieldKind, number> = {
  string: 2,
  bool: 0,
  int64: 0,
  uint64: 0,
  int32: 0,
  uint32: 0,
  sint32: 0,
  enum: 0,
  fixed64: 1,
  sfixed64: 1,
  double: 1,
  fixed32: 5,
  bytes: 2,
  id: 2,
  message: 2,
};

const f = (no: number, name: string, kind: FieldKind, type?: string): FieldDef => ({ no, name, kind, type });
const r = (no: number, name: string, kind: FieldKind, type?: string): FieldDef => ({
  no,
  name,
  kind,
  type,
  repeated: true,
});
/** A field whose presence is meaningful (`optional`, or a member of a `oneof`). */
const p = (no: number, name: string, kind: FieldKind): FieldDef => ({ no, name, kind, presence: true });
const m = (no: number, name: string, type: string) => f(no, name, 'message', type);
const rm = (no: number, name: string, type: string) => r(no, name, 'message', type);

/** Scope{Spans,Metrics,Logs}: the scope, its items, its schema URL. */
const scoped = (items: string, itemType: string) => [
  m(1, 'scope', 'InstrumentationScope'),
  rm(2, items, itemType),
  f(3, 'schemaUrl', 'string'),
];

export const SCHEMA: Readonly<Record<string, readonly FieldDef[]>> = {
  AnyValue: [
    p(1, 'stringValue', 'string'),
    p(2, 'boolValue', 'bool'),
    p(3, 'intValue', 'int64'),
    p(4, 'doubleValue', 'double'),
    m(5, 'arrayValue', 'ArrayValue'),
    m(6, 'kvlistValue', 'KeyValueList'),
    p(7, 'bytesValue', 'bytes'),
  ],
  ArrayValue: [rm(1, 'values', 'AnyValue')],
  KeyValueList: [rm(1, 'values', 'KeyValue')],
  KeyValue: [f(1, 'key', 'string'), m(2, 'value', 'AnyValue')],
  InstrumentationScope: [
    f(1, 'name', 'string'),
    f(2, 'version', 'string'),
    rm(3, 'attributes', 'KeyValue'),
    f(4, 'droppedAttributesCount', 'uint32'),
  ],
  EntityRef: [
    f(1, 'schemaUrl', 'string'),
    f(2, 'type', 'string'),
    r(3, 'idKeys', 'string'),
    r(4, 'descriptionKeys', 'string'),
  ],
  Resource: [
    rm(1, 'attributes', 'KeyValue'),
    f(2, 'droppedAttributesCount', 'uint32'),
    rm(3, 'entityRefs', 'EntityRef'),
  ],

  // traces
  ExportTraceServiceRequest: [rm(1, 'resourceSpans', 'ResourceSpans')],
  ResourceSpans: [m(1, 'resource', 'Resource'), rm(2, 'scopeSpans', 'ScopeSpans'), f(3, 'schemaUrl', 'string')],
  ScopeSpans: scoped('spans', 'Span'),
  Span: [
    f(1, 'traceId', 'id'),
    f(2, 'spanId', 'id'),
    f(3, 'traceState', 'string'),
    f(4, 'parentSpanId', 'id'),
    f(16, 'flags', 'fixed32'),
    f(5, 'name', 'string'),
    f(6, 'kind', 'enum'),
    f(7, 'startTimeUnixNano', 'fixed64'),
    f(8, 'endTimeUnixNano', 'fixed64'),
    rm(9, 'attributes', 'KeyValue'),
    f(10, 'droppedAttributesCount', 'uint32'),
    rm(11, 'events', 'SpanEvent'),
    f(12, 'droppedEventsCount', 'uint32'),
    rm(13, 'links', 'SpanLink'),
    f(14, 'droppedLinksCount', 'uint32'),
    m(15, 'status', 'Status'),
  ],
  SpanEvent: [
    f(1, 'timeUnixNano', 'fixed64'),
    f(2, 'name', 'string'),
    rm(3, 'attributes', 'KeyValue'),
    f(4, 'droppedAttributesCount', 'uint32'),
  ],
  SpanLink: [
    f(1, 'traceId', 'id'),
    f(2, 'spanId', 'id'),
    f(3, 'traceState', 'string'),
    rm(4, 'attributes', 'KeyValue'),
    f(5, 'droppedAttributesCount', 'uint32'),
    f(6, 'flags', 'fixed32'),
  ],
  Status: [f(2, 'message', 'string'), f(3, 'code', 'enum')],

  // metrics
  ExportMetricsServiceRequest: [rm(1, 'resourceMetrics', 'ResourceMetrics')],
  ResourceMetrics: [m(1, 'resource', 'Resource'), rm(2, 'scopeMetrics', 'ScopeMetrics'), f(3, 'schemaUrl', 'string')],
  ScopeMetrics: scoped('metrics', 'Metric'),
  Metric: [
    f(1, 'name', 'string'),
    f(2, 'description', 'string'),
    f(3, 'unit', 'string'),
    m(5, 'gauge', 'Gauge'),
    m(7, 'sum', 'Sum'),
    m(9, 'histogram', 'Histogram'),
    m(10, 'exponentialHistogram', 'ExponentialHistogram'),
    m(11, 'summary', 'Summary'),
    rm(12, 'metadata', 'KeyValue'),
  ],
  Gauge: [rm(1, 'dataPoints', 'NumberDataPoint')],
  Sum: [rm(1, 'dataPoints', 'NumberDataPoint'), f(2, 'aggregationTemporality', 'enum'), f(3, 'isMonotonic', 'bool')],
  Histogram: [rm(1, 'dataPoints', 'HistogramDataPoint'), f(2, 'aggregationTemporality', 'enum')],
  ExponentialHistogram: [rm(1, 'dataPoints', 'ExponentialHistogramDataPoint'), f(2, 'aggregationTemporality', 'enum')],
  Summary: [rm(1, 'dataPoints', 'SummaryDataPoint')],
  NumberDataPoint: [
    rm(7, 'attributes', 'KeyValue'),
    f(2, 'startTimeUnixNano', 'fixed64'),
    f(3, 'timeUnixNano', 'fixed64'),
    p(4, 'asDouble', 'double'),
    p(6, 'asInt', 'sfixed64'),
    rm(5, 'exemplars', 'Exemplar'),
    f(8, 'flags', 'uint32'),
  ],
  HistogramDataPoint: [
    rm(9, 'attributes', 'KeyValue'),
    f(2, 'startTimeUnixNano', 'fixed64'),
    f(3, 'timeUnixNano', 'fixed64'),
    f(4, 'count', 'fixed64'),
    p(5, 'sum', 'double'),
    r(6, 'bucketCounts', 'fixed64'),
    r(7, 'explicitBounds', 'double'),
    rm(8, 'exemplars', 'Exemplar'),
    f(10, 'flags', 'uint32'),
    p(11, 'min', 'double'),
    p(12, 'max', 'double'),
  ],
  ExponentialHistogramDataPoint: [
    rm(1, 'attributes', 'KeyValue'),
    f(2, 'startTimeUnixNano', 'fixed64'),
    f(3, 'timeUnixNano', 'fixed64'),
    f(4, 'count', 'fixed64'),
    p(5, 'sum', 'double'),
    f(6, 'scale', 'sint32'),
    f(7, 'zeroCount', 'fixed64'),
    m(8, 'positive', 'Buckets'),
    m(9, 'negative', 'Buckets'),
    f(10, 'flags', 'uint32'),
    rm(11, 'exemplars', 'Exemplar'),
    p(12, 'min', 'double'),
    p(13, 'max', 'double'),
    f(14, 'zeroThreshold', 'double'),
  ],
  Buckets: [f(1, 'offset', 'sint32'), r(2, 'bucketCounts', 'uint64')],
  SummaryDataPoint: [
    rm(7, 'attributes', 'KeyValue'),
    f(2, 'startTimeUnixNano', 'fixed64'),
    f(3, 'timeUnixNano', 'fixed64'),
    f(4, 'count', 'fixed64'),
    f(5, 'sum', 'double'),
    rm(6, 'quantileValues', 'ValueAtQuantile'),
    f(8, 'flags', 'uint32'),
  ],
  ValueAtQuantile: [f(1, 'quantile', 'double'), f(2, 'value', 'double')],
  Exemplar: [
    rm(7, 'filteredAttributes', 'KeyValue'),
    f(2, 'timeUnixNano', 'fixed64'),
    p(3, 'asDouble', 'double'),
    p(6, 'asInt', 'sfixed64'),
    f(4, 'spanId', 'id'),
    f(5, 'traceId', 'id'),
  ],

  // logs
  ExportLogsServiceRequest: [rm(1, 'resourceLogs', 'ResourceLogs')],
  ResourceLogs: [m(1, 'resource', 'Resource'), rm(2, 'scopeLogs', 'ScopeLogs'), f(3, 'schemaUrl', 'string')],
  ScopeLogs: scoped('logRecords', 'LogRecord'),
  LogRecord: [
    f(1, 'timeUnixNano', 'fixed64'),
    f(11, 'observedTimeUnixNano', 'fixed64'),
    f(2, 'severityNumber', 'enum'),
    f(3, 'severityText', 'string'),
    m(5, 'body', 'AnyValue'),
    rm(6, 'attributes', 'KeyValue'),
    f(7, 'droppedAttributesCount', 'uint32'),
    f(8, 'flags', 'fixed32'),
    f(9, 'traceId', 'id'),
    f(10, 'spanId', 'id'),
    f(12, 'eventName', 'string'),
  ],

  // responses
  ExportTraceServiceResponse: [m(1, 'partialSuccess', 'ExportTracePartialSuccess')],
  ExportTracePartialSuccess: [f(1, 'rejectedSpans', 'int64'), f(2, 'errorMessage', 'string')],
  ExportMetricsServiceResponse: [m(1, 'partialSuccess', 'ExportMetricsPartialSuccess')],
  ExportMetricsPartialSuccess: [f(1, 'rejectedDataPoints', 'int64'), f(2, 'errorMessage', 'string')],
  ExportLogsServiceResponse: [m(1, 'partialSuccess', 'ExportLogsPartialSuccess')],
  ExportLogsPartialSuccess: [f(1, 'rejectedLogRecords', 'int64'), f(2, 'errorMessage', 'string')],
};

export const REQUEST_TYPE: Record<Signal, string> = {
  traces: 'ExportTraceServiceRequest',
  metrics: 'ExportMetricsServiceRequest',
  logs: 'ExportLogsServiceRequest',
};

export const RESPONSE_TYPE: Record<Signal, string> = {
  traces: 'ExportTraceServiceResponse',
  metrics: 'ExportMetricsServiceResponse',
  logs: 'ExportLogsServiceResponse',
};

/** The items counted per signal: spans, metric data points, log records. */
export const ITEM_TYPES: ReadonlySet<string> = new Set([
  'Span',
  'NumberDataPoint',
  'HistogramDataPoint',
  'ExponentialHistogramDataPoint',
  'SummaryDataPoint',
  'LogRecord',
]);

interface Indexed {
  readonly byNumber: ReadonlyMap<number, FieldDef>;
  readonly byName: ReadonlyMap<string, FieldDef>;
}

const INDEX = new Map<string, Indexed>();
for (const [type, fields] of Object.entries(SCHEMA)) {
  const byName = new Map<string, FieldDef>();
  for (const field of fields) {
    byName.set(field.name, field);
    // proto3 JSON parsers accept the original snake_case names too.
    byName.set(
      field.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      field,
    );
  }
  INDEX.set(type, { byNumber: new Map(fields.map((field) => [field.no, field])), byName });
}

export function messageIndex(type: string): Indexed {
  const index = INDEX.get(type);
  if (!index) throw new Error(`unknown OTLP message type ${type}`);
  return index;
}
