/**
 * The platform module's OTLP requests (its spans, metrics and log records, as
 * the shapes of otlp/types.ts) straight to protobuf bytes, field by field into
 * one growing buffer: the same bytes as the generated protobufjs code
 * (otlp/proto.ts `encodeRequest`: fields in number order, a field written when
 * it is set, repeated numbers packed), at a fraction of its cost. On LLRT's
 * interpreter protobufjs took about 4 ms for the cumulative metrics the module
 * emits after every invocation (its `fromObject` copy, an object per written
 * value, `Long` arithmetic); that was most of the extension's CPU per
 * invocation. It writes through the wire module's WireWriter (nested
 * messages in place, strings through its encoded-string cache: names, keys
 * and units recur in every payload).
 *
 * Exemplars, exponential histograms and summaries are not produced by the
 * platform module and are refused.
 */
import type {
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  HistogramDataPoint,
  InstrumentationScope,
  Int64,
  LogRecord,
  Metric,
  NumberDataPoint,
  Resource,
  Span,
} from '../otlp/types.js';
import { isSet, writeAnyValue, writeAttributes } from '../otlp/write-values.js';
import { WireWriter } from '../wire/writer.js';

const FIXED64 = 1;
const TWO_32 = 4294967296;

/** One writer (its buffer and string cache) for every payload: encoding is synchronous, payloads never interleave. */
const shared = new WireWriter(16 * 1024);

/** The 8 bytes of a fixed64/sfixed64 value (no tag): two's complement for negatives. */
function fixed64Value(out: WireWriter, value: Int64): void {
  if (typeof value !== 'number') out.fixed64Bits(value.high, value.low);
  else if (value >= 0 && value < 2 ** 53) out.fixed64Bits(Math.floor(value / TWO_32), value % TWO_32);
  else out.fixed64(BigInt(Math.trunc(value)));
}

function fixed64(out: WireWriter, field: number, value: Int64): void {
  out.tag(field, FIXED64);
  // Timestamps are Longs: straight to the writer.
  if (typeof value !== 'number') out.fixed64Bits(value.high, value.low);
  else fixed64Value(out, value);
}

function resource(out: WireWriter, value: Resource | null | undefined): void {
  if (!isSet(value)) return;
  const at = out.begin(1);
  writeAttributes(out, 1, value.attributes);
  if (isSet(value.droppedAttributesCount)) out.integer(2, value.droppedAttributesCount >>> 0);
  out.end(at);
}

function scope(out: WireWriter, value: InstrumentationScope | null | undefined): void {
  if (!isSet(value)) return;
  const at = out.begin(1);
  if (isSet(value.name)) out.cachedString(1, value.name);
  if (isSet(value.version)) out.cachedString(2, value.version);
  writeAttributes(out, 3, value.attributes);
  if (isSet(value.droppedAttributesCount)) out.integer(4, value.droppedAttributesCount >>> 0);
  out.end(at);
}

function span(out: WireWriter, s: Span): void {
  const at = out.begin(2);
  if (isSet(s.traceId)) out.bytesField(1, s.traceId);
  if (isSet(s.spanId)) out.bytesField(2, s.spanId);
  if (isSet(s.traceState)) out.cachedString(3, s.traceState);
  if (isSet(s.parentSpanId)) out.bytesField(4, s.parentSpanId);
  if (isSet(s.name)) out.cachedString(5, s.name);
  if (isSet(s.kind)) out.integer(6, s.kind);
  if (isSet(s.startTimeUnixNano)) fixed64(out, 7, s.startTimeUnixNano);
  if (isSet(s.endTimeUnixNano)) fixed64(out, 8, s.endTimeUnixNano);
  writeAttributes(out, 9, s.attributes);
  if (isSet(s.droppedAttributesCount)) out.integer(10, s.droppedAttributesCount >>> 0);
  for (const event of s.events ?? []) {
    const e = out.begin(11);
    if (isSet(event.timeUnixNano)) fixed64(out, 1, event.timeUnixNano);
    if (isSet(event.name)) out.cachedString(2, event.name);
    writeAttributes(out, 3, event.attributes);
    if (isSet(event.droppedAttributesCount)) out.integer(4, event.droppedAttributesCount >>> 0);
    out.end(e);
  }
  if (isSet(s.droppedEventsCount)) out.integer(12, s.droppedEventsCount >>> 0);
  for (const link of s.links ?? []) {
    const l = out.begin(13);
    if (isSet(link.traceId)) out.bytesField(1, link.traceId);
    if (isSet(link.spanId)) out.bytesField(2, link.spanId);
    if (isSet(link.traceState)) out.cachedString(3, link.traceState);
    writeAttributes(out, 4, link.attributes);
    if (isSet(link.droppedAttributesCount)) out.integer(5, link.droppedAttributesCount >>> 0);
    if (isSet(link.flags)) out.fixed32Field(6, link.flags);
    out.end(l);
  }
  if (isSet(s.droppedLinksCount)) out.integer(14, s.droppedLinksCount >>> 0);
  if (isSet(s.status)) {
    const st = out.begin(15);
    if (isSet(s.status.message)) out.cachedString(2, s.status.message);
    if (isSet(s.status.code)) out.integer(3, s.status.code);
    out.end(st);
  }
  if (isSet(s.flags)) out.fixed32Field(16, s.flags);
  out.end(at);
}

function refuse(what: string): never {
  throw new Error(`platform/encode: ${what} are not written by this encoder (the platform module makes none)`);
}

function numberPoint(out: WireWriter, p: NumberDataPoint): void {
  const at = out.begin(1);
  if (isSet(p.startTimeUnixNano)) fixed64(out, 2, p.startTimeUnixNano);
  if (isSet(p.timeUnixNano)) fixed64(out, 3, p.timeUnixNano);
  if (isSet(p.asDouble)) out.double(4, p.asDouble);
  if (p.exemplars?.length) refuse('exemplars');
  if (isSet(p.asInt)) fixed64(out, 6, p.asInt);
  writeAttributes(out, 7, p.attributes);
  if (isSet(p.flags)) out.integer(8, p.flags >>> 0);
  out.end(at);
}

function histogramPoint(out: WireWriter, p: HistogramDataPoint): void {
  const at = out.begin(1);
  if (isSet(p.startTimeUnixNano)) fixed64(out, 2, p.startTimeUnixNano);
  if (isSet(p.timeUnixNano)) fixed64(out, 3, p.timeUnixNano);
  if (isSet(p.count)) fixed64(out, 4, p.count);
  if (isSet(p.sum)) out.double(5, p.sum);
  if (p.bucketCounts?.length) {
    const packed = out.begin(6);
    for (const c of p.bucketCounts) fixed64Value(out, c);
    out.end(packed);
  }
  if (p.explicitBounds?.length) {
    const packed = out.begin(7);
    for (const b of p.explicitBounds) out.doubleValue(b);
    out.end(packed);
  }
  if (p.exemplars?.length) refuse('exemplars');
  writeAttributes(out, 9, p.attributes);
  if (isSet(p.flags)) out.integer(10, p.flags >>> 0);
  if (isSet(p.min)) out.double(11, p.min);
  if (isSet(p.max)) out.double(12, p.max);
  out.end(at);
}

function metric(out: WireWriter, m: Metric): void {
  const at = out.begin(2);
  if (isSet(m.name)) out.cachedString(1, m.name);
  if (isSet(m.description)) out.cachedString(2, m.description);
  if (isSet(m.unit)) out.cachedString(3, m.unit);
  if (isSet(m.gauge)) {
    const g = out.begin(5);
    for (const p of m.gauge.dataPoints ?? []) numberPoint(out, p);
    out.end(g);
  }
  if (isSet(m.sum)) {
    const s = out.begin(7);
    for (const p of m.sum.dataPoints ?? []) numberPoint(out, p);
    if (isSet(m.sum.aggregationTemporality)) out.integer(2, m.sum.aggregationTemporality);
    if (isSet(m.sum.isMonotonic)) out.integer(3, m.sum.isMonotonic ? 1 : 0);
    out.end(s);
  }
  if (isSet(m.histogram)) {
    const h = out.begin(9);
    for (const p of m.histogram.dataPoints ?? []) histogramPoint(out, p);
    if (isSet(m.histogram.aggregationTemporality)) out.integer(2, m.histogram.aggregationTemporality);
    out.end(h);
  }
  if (isSet(m.exponentialHistogram)) refuse('exponential histograms');
  if (isSet(m.summary)) refuse('summaries');
  writeAttributes(out, 12, m.metadata);
  out.end(at);
}

function logRecord(out: WireWriter, r: LogRecord): void {
  const at = out.begin(2);
  if (isSet(r.timeUnixNano)) fixed64(out, 1, r.timeUnixNano);
  if (isSet(r.severityNumber)) out.integer(2, r.severityNumber);
  if (isSet(r.severityText)) out.cachedString(3, r.severityText);
  if (isSet(r.body)) writeAnyValue(out, 5, r.body);
  writeAttributes(out, 6, r.attributes);
  if (isSet(r.droppedAttributesCount)) out.integer(7, r.droppedAttributesCount >>> 0);
  if (isSet(r.flags)) out.fixed32Field(8, r.flags);
  if (isSet(r.traceId)) out.bytesField(9, r.traceId);
  if (isSet(r.spanId)) out.bytesField(10, r.spanId);
  if (isSet(r.observedTimeUnixNano)) fixed64(out, 11, r.observedTimeUnixNano);
  out.end(at);
}

/** Resource groups, each of scope groups, each of items: the common shape of the three export requests. */
function exportRequest<Group extends ResourceGroup, Scoped extends ScopeGroup, Item>(
  groups: readonly Group[] | undefined,
  scopedOf: (group: Group) => readonly Scoped[] | undefined,
  itemsOf: (scoped: Scoped) => readonly Item[] | undefined,
  writeItem: (out: WireWriter, item: Item) => void,
): Uint8Array {
  const out = shared;
  out.reset();
  for (const group of groups ?? []) {
    const r = out.begin(1);
    resource(out, group.resource);
    for (const scoped of scopedOf(group) ?? []) {
      const s = out.begin(2);
      scope(out, scoped.scope);
      for (const item of itemsOf(scoped) ?? []) writeItem(out, item);
      if (isSet(scoped.schemaUrl)) out.cachedString(3, scoped.schemaUrl);
      out.end(s);
    }
    if (isSet(group.schemaUrl)) out.cachedString(3, group.schemaUrl);
    out.end(r);
  }
  return out.copy();
}

interface ResourceGroup {
  resource?: Resource | null;
  schemaUrl?: string;
}

interface ScopeGroup {
  scope?: InstrumentationScope | null;
  schemaUrl?: string;
}

export function encodeTraces(request: ExportTraceServiceRequest): Uint8Array {
  return exportRequest(
    request.resourceSpans,
    (g) => g.scopeSpans,
    (s) => s.spans,
    span,
  );
}

export function encodeMetrics(request: ExportMetricsServiceRequest): Uint8Array {
  return exportRequest(
    request.resourceMetrics,
    (g) => g.scopeMetrics,
    (s) => s.metrics,
    metric,
  );
}

export function encodeLogs(request: ExportLogsServiceRequest): Uint8Array {
  return exportRequest(
    request.resourceLogs,
    (g) => g.scopeLogs,
    (s) => s.logRecords,
    logRecord,
  );
}
