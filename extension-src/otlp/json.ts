/**
 * OTLP/JSON <-> OTLP protobuf, straight between JSON values and wire bytes
 * (driven by the schema table), following the OTLP/JSON rules: lowerCamelCase
 * keys (snake_case accepted too), trace and span ids as hex, enums as
 * integers, 64-bit integers as decimal strings (numbers accepted), bytes as
 * base64, unknown keys ignored.
 *
 * The receiver turns JSON requests into protobuf so the pipeline only ever
 * carries protobuf; the OTLP exporter turns protobuf into JSON when the
 * backend wants http/json.
 */
import { type FieldDef, ITEM_TYPES, messageIndex, REQUEST_TYPE, RESPONSE_TYPE, WIRE_TYPE } from './schema.js';
import type { Signal } from './types.js';

/** The JSON does not have the shape of the OTLP message; the message names the path. */
export class OtlpJsonError extends Error {}

class Writer {
  buf = new Uint8Array(64);
  len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  varint(value: number): void {
    this.ensure(10);
    let v = value;
    while (v > 0x7f) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  varint64(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  fixed32(value: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.len, value >>> 0, true);
    this.len += 4;
  }

  fixed64(value: bigint): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setBigUint64(this.len, BigInt.asUintN(64, value), true);
    this.len += 8;
  }

  double(value: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, value, true);
    this.len += 8;
  }

  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  tag(no: number, wireType: number): void {
    this.varint(no * 8 + wireType);
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

const ID_LENGTHS: Record<string, number> = { traceId: 16, spanId: 8, parentSpanId: 8 };

function fail(path: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : JSON.stringify(value)?.slice(0, 40);
  throw new OtlpJsonError(`${path}: expected ${expected}, got ${shown}`);
}

function integer(path: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    fail(path, `an integer from ${min} to ${max}`, value);
  }
  return n;
}

function int64(path: string, value: unknown, signed: boolean): bigint {
  let big: bigint | undefined;
  if (typeof value === 'string' && (signed ? /^-?\d+$/ : /^\d+$/).test(value.trim())) big = BigInt(value.trim());
  else if (typeof value === 'number' && Number.isSafeInteger(value) && (signed || value >= 0)) big = BigInt(value);
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  if (big === undefined || big < min || big > max)
    fail(path, `a ${signed ? '' : 'non-negative '}64-bit integer`, value);
  return big;
}

function double(path: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return fail(path, 'a number', value);
}

function hexId(path: string, name: string, value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') fail(path, 'a hex string', value);
  if (value === '') return undefined;
  const length = ID_LENGTHS[name];
  if (!/^[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0 || (length && value.length !== length * 2)) {
    fail(path, `${length ? `${length * 2} ` : ''}hex characters`, value);
  }
  return Buffer.from(value, 'hex');
}

function base64(path: string, value: unknown): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) fail(path, 'base64', value);
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

function writeScalar(w: Writer, field: FieldDef, path: string, value: unknown): void {
  switch (field.kind) {
    case 'string':
      if (typeof value !== 'string') fail(path, 'a string', value);
      w.bytes(textEncoder.encode(value));
      return;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, 'true or false', value);
      w.varint(value ? 1 : 0);
      return;
    case 'enum':
    case 'int32': {
      const n = integer(path, value, -(2 ** 31), 2 ** 31 - 1);
      if (n < 0) w.varint64(BigInt(n));
      else w.varint(n);
      return;
    }
    case 'uint32':
      w.varint(integer(path, value, 0, 2 ** 32 - 1));
      return;
    case 'sint32': {
      const n = integer(path, value, -(2 ** 31), 2 ** 31 - 1);
      w.varint(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    case 'int64':
      w.varint64(int64(path, value, true));
      return;
    case 'uint64':
      w.varint64(int64(path, value, false));
      return;
    case 'fixed64':
      w.fixed64(int64(path, value, false));
      return;
    case 'sfixed64':
      w.fixed64(int64(path, value, true));
      return;
    case 'double':
      w.double(double(path, value));
      return;
    case 'fixed32':
      w.fixed32(integer(path, value, 0, 2 ** 32 - 1));
      return;
    case 'bytes':
      w.bytes(base64(path, value));
      return;
    default:
      throw new Error(`not a scalar: ${field.kind}`);
  }
}

function isDefault(value: unknown): boolean {
  return value === '' || value === 0 || value === false || value === '0';
}

interface Counter {
  items: number;
}

function encodeMessage(type: string, value: unknown, path: string, counter: Counter): Uint8Array {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path || 'request', 'an object', value);
  if (ITEM_TYPES.has(type)) counter.items++;
  const { byName } = messageIndex(type);
  const w = new Writer();
  for (const key of Object.keys(value)) {
    const field = byName.get(key);
    const v = (value as Record<string, unknown>)[key];
    if (!field || v === null || v === undefined) continue;
    const at = path ? `${path}.${field.name}` : field.name;
    const values = field.repeated ? v : [v];
    if (!Array.isArray(values)) fail(at, 'an array', v);
    for (let i = 0; i < values.length; i++) {
      const item = values[i];
      const itemPath = field.repeated ? `${at}[${i}]` : at;
      if (field.kind === 'message') {
        w.tag(field.no, 2);
        w.bytes(encodeMessage(field.type!, item, itemPath, counter));
      } else if (field.kind === 'id') {
        const id = hexId(itemPath, field.name, item);
        if (id) {
          w.tag(field.no, 2);
          w.bytes(id);
        }
      } else {
        // proto3: a singular field at its default value is not written, unless its presence matters.
        if (!field.repeated && !field.presence && isDefault(item)) {
          writeScalar(new Writer(), field, itemPath, item); // still type-checked
          continue;
        }
        // Repeated numbers are written unpacked: every protobuf decoder must accept both forms.
        w.tag(field.no, WIRE_TYPE[field.kind]);
        writeScalar(w, field, itemPath, item);
      }
    }
  }
  return w.finish();
}

/** Protobuf bytes of the request in `json` (parsed), and its item count. Throws OtlpJsonError on a bad shape. */
export function jsonToProtobuf(signal: Signal, json: unknown): { bytes: Uint8Array; items: number } {
  const counter = { items: 0 };
  const bytes = encodeMessage(REQUEST_TYPE[signal], json, '', counter);
  return { bytes, items: counter.items };
}

// ---- protobuf -> JSON ----

export class WireFormatError extends Error {}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  need(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new WireFormatError('field runs past the end of its message');
    this.pos += n;
    return at;
  }

  view(): DataView {
    return new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }
}

function readScalar(r: Reader, kind: string): unknown {
  switch (kind) {
    case 'bool':
      return r.varint() !== 0;
    case 'enum':
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint64()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint64()));
    case 'sint32': {
      const n = r.varint();
      return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    }
    case 'int64':
      return BigInt.asIntN(64, r.varint64()).toString();
    case 'uint64':
      return r.varint64().toString();
    case 'fixed64':
      return r.view().getBigUint64(r.need(8), true).toString();
    case 'sfixed64':
      return r.view().getBigInt64(r.need(8), true).toString();
    case 'double': {
      const d = r.view().getFloat64(r.need(8), true);
      return Number.isFinite(d) ? d : Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity';
    }
    case 'fixed32':
      return r.view().getUint32(r.need(4), true);
    default:
      throw new Error(`not a fixed-size scalar: ${kind}`);
  }
}

function skip(r: Reader, wireType: number): void {
  switch (wireType) {
    case 0:
      r.varint64();
      return;
    case 1:
      r.need(8);
      return;
    case 2:
      r.need(r.varint());
      return;
    case 5:
      r.need(4);
      return;
    default:
      throw new WireFormatError(`unsupported wire type ${wireType}`);
  }
}

function decodeMessage(type: string, buf: Uint8Array, start: number, end: number): Record<string, unknown> {
  const { byNumber } = messageIndex(type);
  const out: Record<string, unknown> = {};
  const r = new Reader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (no === 0) throw new WireFormatError('field number 0');
    const field = byNumber.get(no);
    if (!field) {
      skip(r, wireType);
      continue;
    }
    const expected = WIRE_TYPE[field.kind];
    let values: unknown[];
    if (wireType === 2 && expected !== 2 && field.repeated) {
      // Packed repeated numbers.
      const length = r.varint();
      const at = r.need(length);
      const packed = new Reader(buf, at, at + length);
      values = [];
      while (packed.pos < packed.end) values.push(readScalar(packed, field.kind));
    } else if (wireType !== expected) {
      throw new WireFormatError(`${type}.${field.name}: wire type ${wireType}, expected ${expected}`);
    } else if (wireType === 2) {
      const length = r.varint();
      const at = r.need(length);
      const slice = buf.subarray(at, at + length);
      if (field.kind === 'message') values = [decodeMessage(field.type!, buf, at, at + length)];
      else if (field.kind === 'string') values = [textDecoder.decode(slice)];
      else if (field.kind === 'id') values = [Buffer.from(slice).toString('hex')];
      else values = [Buffer.from(slice).toString('base64')];
    } else {
      values = [readScalar(r, field.kind)];
    }
    if (field.repeated) {
      const list = (out[field.name] as unknown[] | undefined) ?? [];
      for (const v of values) list.push(v);
      out[field.name] = list;
    } else {
      // Last one wins for singular fields; sub-messages would merge, which OTLP senders never rely on.
      out[field.name] = values[values.length - 1];
    }
  }
  return out;
}

/** The OTLP/JSON object of a protobuf request. Throws WireFormatError on malformed bytes. */
export function protobufToJson(signal: Signal, bytes: Uint8Array): Record<string, unknown> {
  return decodeMessage(REQUEST_TYPE[signal], bytes, 0, bytes.length);
}

/** A response (partial success) in protobuf, as JSON; for exporters reading a backend's answer. */
export function responseToJson(signal: Signal, bytes: Uint8Array): Record<string, unknown> {
  return decodeMessage(RESPONSE_TYPE[signal], bytes, 0, bytes.length);
}
