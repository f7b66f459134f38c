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
import { WireFormatError } from '../wire/error.js';
import { WIRE_LEN, WireReader } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';
import { type FieldDef, ITEM_TYPES, messageIndex, REQUEST_TYPE, RESPONSE_TYPE, WIRE_TYPE } from './schema.js';
import type { Signal } from './types.js';

/** The JSON does not have the shape of the OTLP message; the message names the path. */
export class OtlpJsonError extends Error {}

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

function writeScalar(w: WireWriter, field: FieldDef, path: string, value: unknown): void {
  switch (field.kind) {
    case 'string':
      if (typeof value !== 'string') fail(path, 'a string', value);
      w.stringValue(value);
      return;
    case 'bool':
      if (typeof value !== 'boolean') fail(path, 'true or false', value);
      w.varint(value ? 1 : 0);
      return;
    case 'enum':
    case 'int32': {
      w.varint(integer(path, value, -(2 ** 31), 2 ** 31 - 1));
      return;
    }
    case 'uint32':
      w.varint(integer(path, value, 0, 2 ** 32 - 1));
      return;
    case 'sint32':
      w.zigzag(integer(path, value, -(2 ** 31), 2 ** 31 - 1));
      return;
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
      w.doubleValue(double(path, value));
      return;
    case 'fixed32':
      w.fixed32(integer(path, value, 0, 2 ** 32 - 1));
      return;
    case 'bytes':
      w.lengthDelimited(base64(path, value));
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

function writeMessage(w: WireWriter, type: string, value: unknown, path: string, counter: Counter): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path || 'request', 'an object', value);
  if (ITEM_TYPES.has(type)) counter.items++;
  const { byName } = messageIndex(type);
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
        const lengthAt = w.begin(field.no);
        writeMessage(w, field.type!, item, itemPath, counter);
        w.end(lengthAt);
      } else if (field.kind === 'id') {
        const id = hexId(itemPath, field.name, item);
        if (id) {
          w.tag(field.no, WIRE_LEN);
          w.lengthDelimited(id);
        }
      } else if (!field.repeated && !field.presence && isDefault(item)) {
        // proto3: a singular field at its default value is not written, unless its presence matters;
        // it is still type-checked (written, then taken back).
        const before = w.pos;
        writeScalar(w, field, itemPath, item);
        w.pos = before;
      } else {
        // Repeated numbers are written unpacked: every protobuf decoder must accept both forms.
        w.tag(field.no, WIRE_TYPE[field.kind]);
        writeScalar(w, field, itemPath, item);
      }
    }
  }
}

/** Protobuf bytes of the request in `json` (parsed), and its item count. Throws OtlpJsonError on a bad shape. */
export function jsonToProtobuf(signal: Signal, json: unknown): { bytes: Uint8Array; items: number } {
  const counter = { items: 0 };
  const w = new WireWriter(1024);
  writeMessage(w, REQUEST_TYPE[signal], json, '', counter);
  // A copy of its own size: the request may wait in a queue, and the writer's buffer is up to twice as large.
  return { bytes: w.copy(), items: counter.items };
}

// ---- protobuf -> JSON ----

function readScalar(r: WireReader, kind: string): unknown {
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
      return r.view().getBigUint64(r.take(8), true).toString();
    case 'sfixed64':
      return r.view().getBigInt64(r.take(8), true).toString();
    case 'double': {
      const d = r.view().getFloat64(r.take(8), true);
      return Number.isFinite(d) ? d : Number.isNaN(d) ? 'NaN' : d > 0 ? 'Infinity' : '-Infinity';
    }
    case 'fixed32':
      return r.view().getUint32(r.take(4), true);
    default:
      throw new Error(`not a fixed-size scalar: ${kind}`);
  }
}

function decodeMessage(type: string, buf: Uint8Array, start: number, end: number): Record<string, unknown> {
  const { byNumber } = messageIndex(type);
  const out: Record<string, unknown> = {};
  const r = new WireReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    const no = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (no === 0) throw new WireFormatError('field number 0');
    const field = byNumber.get(no);
    if (!field) {
      r.skip(wireType);
      continue;
    }
    const expected = WIRE_TYPE[field.kind];
    let values: unknown[];
    if (wireType === 2 && expected !== 2 && field.repeated) {
      // Packed repeated numbers.
      const length = r.varint();
      const at = r.take(length);
      const packed = new WireReader(buf, at, at + length);
      values = [];
      while (packed.pos < packed.end) values.push(readScalar(packed, field.kind));
    } else if (wireType !== expected) {
      throw new WireFormatError(`${type}.${field.name}: wire type ${wireType}, expected ${expected}`);
    } else if (wireType === 2) {
      const length = r.varint();
      const at = r.take(length);
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
