/**
 * The platform module's OTLP requests (its spans, metrics and log records, as
 * the shapes of otlp/types.ts) straight to protobuf bytes, field by field into
 * one growing buffer: the same bytes as the generated protobufjs code
 * (otlp/proto.ts `encodeRequest`: fields in number order, a field written when
 * it is set, repeated numbers packed), at a fraction of its cost. On LLRT's
 * interpreter protobufjs took about 4 ms for the cumulative metrics the module
 * emits after every invocation (its `fromObject` copy, an object per written
 * value, `Long` arithmetic); that was most of the extension's CPU per
 * invocation. Nested messages are written in place after a one-byte length
 * guess and moved only when longer; strings are encoded apart and copied in,
 * since LLRT's `Buffer.write` costs the whole buffer's length per call.
 *
 * Exemplars, exponential histograms and summaries are not produced by the
 * platform module and are refused.
 */
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  HistogramDataPoint,
  InstrumentationScope,
  Int64,
  KeyValue,
  LogRecord,
  Metric,
  NumberDataPoint,
  Resource,
  Span,
} from '../otlp/types.js';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;
const TWO_32 = 4294967296;

/** Encoded strings: metric names, attribute keys, units and the like repeat in every payload. */
const STRING_CACHE_MAX = 2048;
const STRING_CACHE_MAX_LENGTH = 128;
const stringCache = new Map<string, Buffer>();

function utf8(value: string): Buffer {
  let bytes = stringCache.get(value);
  if (bytes) return bytes;
  bytes = Buffer.from(value, 'utf8');
  if (value.length <= STRING_CACHE_MAX_LENGTH) {
    if (stringCache.size >= STRING_CACHE_MAX) stringCache.clear();
    stringCache.set(value, bytes);
  }
  return bytes;
}

class ProtobufOut {
  private buf = Buffer.allocUnsafe(16 * 1024);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;

  /** Starts a payload (also after one that threw half-way). */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** A copy of what was written, in a buffer of its own. */
  take(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** A varint of a non-negative integer below 2^53. */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (value >= 0x80) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** A varint of a 64-bit value given as its unsigned 32-bit halves. */
  varint64(low: number, high: number): void {
    this.ensure(10);
    while (high > 0 || low >= 0x80) {
      this.buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buf[this.pos++] = low;
  }

  /** A field's tag; one byte for fields below 16 (all but span flags). */
  tag(field: number, wireType: number): void {
    if (field < 16) {
      this.ensure(1);
      this.buf[this.pos++] = (field << 3) | wireType;
    } else {
      this.varint(field * 8 + wireType);
    }
  }

  fixed32(field: number, value: number): void {
    this.tag(field, FIXED32);
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  /** The 8 bytes of a fixed64/sfixed64 value (no tag): two's complement for negatives. */
  fixed64Value(value: Int64): void {
    this.ensure(8);
    let low: number;
    let high: number;
    if (typeof value !== 'number') {
      low = value.low;
      high = value.high;
    } else if (value >= 0 && value < 2 ** 53) {
      low = value % TWO_32;
      high = Math.floor(value / TWO_32);
    } else {
      const big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
      low = Number(big & 0xffffffffn);
      high = Number(big >> 32n);
    }
    this.view.setUint32(this.pos, low >>> 0, true);
    this.view.setUint32(this.pos + 4, high >>> 0, true);
    this.pos += 8;
  }

  fixed64(field: number, value: Int64): void {
    this.tag(field, FIXED64);
    this.fixed64Value(value);
  }

  doubleValue(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  double(field: number, value: number): void {
    this.tag(field, FIXED64);
    this.doubleValue(value);
  }

  uint32(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value >>> 0);
  }

  /** int32 or enum: a negative value as ten bytes, as protobuf requires. */
  int32(field: number, value: number): void {
    this.tag(field, VARINT);
    if (value < 0) this.varint64(value >>> 0, 0xffffffff);
    else this.varint(value);
  }

  int64(field: number, value: Int64): void {
    this.tag(field, VARINT);
    if (typeof value === 'number' && value >= 0 && value < 2 ** 53) this.varint(value);
    else if (typeof value === 'number') {
      const big = BigInt.asUintN(64, BigInt(Math.trunc(value)));
      this.varint64(Number(big & 0xffffffffn), Number(big >> 32n));
    } else this.varint64(value.low >>> 0, value.high >>> 0);
  }

  bool(field: number, value: boolean): void {
    this.tag(field, VARINT);
    this.varint(value ? 1 : 0);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  string(field: number, value: string): void {
    this.bytes(field, utf8(value));
  }

  /** Starts a nested message; pass the result to `end`. */
  begin(field: number): number {
    this.tag(field, LEN);
    this.ensure(1);
    return this.pos++;
  }

  end(lengthAt: number): void {
    const length = this.pos - lengthAt - 1;
    if (length < 0x80) {
      this.buf[lengthAt] = length;
      return;
    }
    let extra = 0;
    for (let rest = length; rest >= 0x80; rest = Math.floor(rest / 0x80)) extra++;
    this.ensure(extra);
    this.buf.copy(this.buf, lengthAt + 1 + extra, lengthAt + 1, this.pos);
    this.pos = lengthAt;
    this.varint(length);
    this.pos += length;
  }
}

/** One writer (and its buffer) for every payload: encoding is synchronous, so payloads never interleave. */
const shared = new ProtobufOut();

const isSet = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

function anyValue(out: ProtobufOut, field: number, value: AnyValue): void {
  const at = out.begin(field);
  if (isSet(value.stringValue)) out.string(1, value.stringValue);
  if (isSet(value.boolValue)) out.bool(2, value.boolValue);
  if (isSet(value.intValue)) out.int64(3, value.intValue);
  if (isSet(value.doubleValue)) out.double(4, value.doubleValue);
  if (isSet(value.arrayValue)) {
    const array = out.begin(5);
    for (const item of value.arrayValue.values ?? []) anyValue(out, 1, item);
    out.end(array);
  }
  if (isSet(value.kvlistValue)) {
    const list = out.begin(6);
    attributes(out, 1, value.kvlistValue.values);
    out.end(list);
  }
  if (isSet(value.bytesValue)) out.bytes(7, value.bytesValue);
  out.end(at);
}

function attributes(out: ProtobufOut, field: number, list: readonly KeyValue[] | undefined): void {
  if (!list) return;
  for (const kv of list) {
    const at = out.begin(field);
    if (isSet(kv.key)) out.string(1, kv.key);
    if (isSet(kv.value)) anyValue(out, 2, kv.value);
    out.end(at);
  }
}

function resource(out: ProtobufOut, value: Resource | null | undefined): void {
  if (!isSet(value)) return;
  const at = out.begin(1);
  attributes(out, 1, value.attributes);
  if (isSet(value.droppedAttributesCount)) out.uint32(2, value.droppedAttributesCount);
  out.end(at);
}

function scope(out: ProtobufOut, value: InstrumentationScope | null | undefined): void {
  if (!isSet(value)) return;
  const at = out.begin(1);
  if (isSet(value.name)) out.string(1, value.name);
  if (isSet(value.version)) out.string(2, value.version);
  attributes(out, 3, value.attributes);
  if (isSet(value.droppedAttributesCount)) out.uint32(4, value.droppedAttributesCount);
  out.end(at);
}

function span(out: ProtobufOut, s: Span): void {
  const at = out.begin(2);
  if (isSet(s.traceId)) out.bytes(1, s.traceId);
  if (isSet(s.spanId)) out.bytes(2, s.spanId);
  if (isSet(s.traceState)) out.string(3, s.traceState);
  if (isSet(s.parentSpanId)) out.bytes(4, s.parentSpanId);
  if (isSet(s.name)) out.string(5, s.name);
  if (isSet(s.kind)) out.int32(6, s.kind);
  if (isSet(s.startTimeUnixNano)) out.fixed64(7, s.startTimeUnixNano);
  if (isSet(s.endTimeUnixNano)) out.fixed64(8, s.endTimeUnixNano);
  attributes(out, 9, s.attributes);
  if (isSet(s.droppedAttributesCount)) out.uint32(10, s.droppedAttributesCount);
  for (const event of s.events ?? []) {
    const e = out.begin(11);
    if (isSet(event.timeUnixNano)) out.fixed64(1, event.timeUnixNano);
    if (isSet(event.name)) out.string(2, event.name);
    attributes(out, 3, event.attributes);
    if (isSet(event.droppedAttributesCount)) out.uint32(4, event.droppedAttributesCount);
    out.end(e);
  }
  if (isSet(s.droppedEventsCount)) out.uint32(12, s.droppedEventsCount);
  for (const link of s.links ?? []) {
    const l = out.begin(13);
    if (isSet(link.traceId)) out.bytes(1, link.traceId);
    if (isSet(link.spanId)) out.bytes(2, link.spanId);
    if (isSet(link.traceState)) out.string(3, link.traceState);
    attributes(out, 4, link.attributes);
    if (isSet(link.droppedAttributesCount)) out.uint32(5, link.droppedAttributesCount);
    if (isSet(link.flags)) out.fixed32(6, link.flags);
    out.end(l);
  }
  if (isSet(s.droppedLinksCount)) out.uint32(14, s.droppedLinksCount);
  if (isSet(s.status)) {
    const st = out.begin(15);
    if (isSet(s.status.message)) out.string(2, s.status.message);
    if (isSet(s.status.code)) out.int32(3, s.status.code);
    out.end(st);
  }
  if (isSet(s.flags)) out.fixed32(16, s.flags);
  out.end(at);
}

function refuse(what: string): never {
  throw new Error(`platform/encode: ${what} are not written by this encoder (the platform module makes none)`);
}

function numberPoint(out: ProtobufOut, p: NumberDataPoint): void {
  const at = out.begin(1);
  if (isSet(p.startTimeUnixNano)) out.fixed64(2, p.startTimeUnixNano);
  if (isSet(p.timeUnixNano)) out.fixed64(3, p.timeUnixNano);
  if (isSet(p.asDouble)) out.double(4, p.asDouble);
  if (p.exemplars?.length) refuse('exemplars');
  if (isSet(p.asInt)) out.fixed64(6, p.asInt);
  attributes(out, 7, p.attributes);
  if (isSet(p.flags)) out.uint32(8, p.flags);
  out.end(at);
}

function histogramPoint(out: ProtobufOut, p: HistogramDataPoint): void {
  const at = out.begin(1);
  if (isSet(p.startTimeUnixNano)) out.fixed64(2, p.startTimeUnixNano);
  if (isSet(p.timeUnixNano)) out.fixed64(3, p.timeUnixNano);
  if (isSet(p.count)) out.fixed64(4, p.count);
  if (isSet(p.sum)) out.double(5, p.sum);
  if (p.bucketCounts?.length) {
    const packed = out.begin(6);
    for (const c of p.bucketCounts) out.fixed64Value(c);
    out.end(packed);
  }
  if (p.explicitBounds?.length) {
    const packed = out.begin(7);
    for (const b of p.explicitBounds) out.doubleValue(b);
    out.end(packed);
  }
  if (p.exemplars?.length) refuse('exemplars');
  attributes(out, 9, p.attributes);
  if (isSet(p.flags)) out.uint32(10, p.flags);
  if (isSet(p.min)) out.double(11, p.min);
  if (isSet(p.max)) out.double(12, p.max);
  out.end(at);
}

function metric(out: ProtobufOut, m: Metric): void {
  const at = out.begin(2);
  if (isSet(m.name)) out.string(1, m.name);
  if (isSet(m.description)) out.string(2, m.description);
  if (isSet(m.unit)) out.string(3, m.unit);
  if (isSet(m.gauge)) {
    const g = out.begin(5);
    for (const p of m.gauge.dataPoints ?? []) numberPoint(out, p);
    out.end(g);
  }
  if (isSet(m.sum)) {
    const s = out.begin(7);
    for (const p of m.sum.dataPoints ?? []) numberPoint(out, p);
    if (isSet(m.sum.aggregationTemporality)) out.int32(2, m.sum.aggregationTemporality);
    if (isSet(m.sum.isMonotonic)) out.bool(3, m.sum.isMonotonic);
    out.end(s);
  }
  if (isSet(m.histogram)) {
    const h = out.begin(9);
    for (const p of m.histogram.dataPoints ?? []) histogramPoint(out, p);
    if (isSet(m.histogram.aggregationTemporality)) out.int32(2, m.histogram.aggregationTemporality);
    out.end(h);
  }
  if (isSet(m.exponentialHistogram)) refuse('exponential histograms');
  if (isSet(m.summary)) refuse('summaries');
  attributes(out, 12, m.metadata);
  out.end(at);
}

function logRecord(out: ProtobufOut, r: LogRecord): void {
  const at = out.begin(2);
  if (isSet(r.timeUnixNano)) out.fixed64(1, r.timeUnixNano);
  if (isSet(r.severityNumber)) out.int32(2, r.severityNumber);
  if (isSet(r.severityText)) out.string(3, r.severityText);
  if (isSet(r.body)) anyValue(out, 5, r.body);
  attributes(out, 6, r.attributes);
  if (isSet(r.droppedAttributesCount)) out.uint32(7, r.droppedAttributesCount);
  if (isSet(r.flags)) out.fixed32(8, r.flags);
  if (isSet(r.traceId)) out.bytes(9, r.traceId);
  if (isSet(r.spanId)) out.bytes(10, r.spanId);
  if (isSet(r.observedTimeUnixNano)) out.fixed64(11, r.observedTimeUnixNano);
  out.end(at);
}

/** Resource groups, each of scope groups, each of items: the common shape of the three export requests. */
function exportRequest<Group extends ResourceGroup, Scoped extends ScopeGroup, Item>(
  groups: readonly Group[] | undefined,
  scopedOf: (group: Group) => readonly Scoped[] | undefined,
  itemsOf: (scoped: Scoped) => readonly Item[] | undefined,
  writeItem: (out: ProtobufOut, item: Item) => void,
): Uint8Array {
  const out = shared.reset();
  for (const group of groups ?? []) {
    const r = out.begin(1);
    resource(out, group.resource);
    for (const scoped of scopedOf(group) ?? []) {
      const s = out.begin(2);
      scope(out, scoped.scope);
      for (const item of itemsOf(scoped) ?? []) writeItem(out, item);
      if (isSet(scoped.schemaUrl)) out.string(3, scoped.schemaUrl);
      out.end(s);
    }
    if (isSet(group.schemaUrl)) out.string(3, group.schemaUrl);
    out.end(r);
  }
  return out.take();
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
