/**
 * Just enough of the protobuf wire format to walk OTLP requests without
 * decoding them: read field tags and lengths, skip values, and write the few
 * messages the extension adds (KeyValue attributes).
 */
import type { AnyValue, KeyValue } from '../otlp/types.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** Offset of the tag. */
  readonly start: number;
  /** Offset of the value (after the tag, and after the length for LEN fields). */
  readonly valueStart: number;
  /** Offset just past the field. */
  readonly end: number;
}

export class WireError extends Error {}

/** Reads a varint that must fit in a JS number (lengths, tags); returns [value, next offset]. */
export function readVarint(buf: Uint8Array, offset: number): [number, number] {
  let result = 0;
  let multiplier = 1;
  for (let i = offset; i < buf.length && i < offset + 10; i++) {
    const byte = buf[i];
    result += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      if (result > Number.MAX_SAFE_INTEGER) throw new WireError('varint too large');
      return [result, i + 1];
    }
    multiplier *= 128;
  }
  throw new WireError('truncated varint');
}

/** Iterates over the fields of one message in buf[start, end). Throws WireError on malformed input. */
export function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<WireField> {
  let offset = start;
  while (offset < end) {
    const [tag, afterTag] = readVarint(buf, offset);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0) throw new WireError('field number 0');
    let valueStart = afterTag;
    let next: number;
    switch (wireType) {
      case WIRE_VARINT: {
        let i = afterTag;
        while (i < end && buf[i] >= 0x80) i++;
        next = i + 1;
        break;
      }
      case WIRE_FIXED64:
        next = afterTag + 8;
        break;
      case WIRE_FIXED32:
        next = afterTag + 4;
        break;
      case WIRE_LEN: {
        const [length, afterLength] = readVarint(buf, afterTag);
        valueStart = afterLength;
        next = afterLength + length;
        break;
      }
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
    if (next > end) throw new WireError('field runs past the end of its message');
    yield { field, wireType, start: offset, valueStart, end: next };
    offset = next;
  }
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function decodeString(buf: Uint8Array, f: WireField): string {
  return textDecoder.decode(buf.subarray(f.valueStart, f.end));
}

/** Growable byte writer for the messages this module builds. */
export class Writer {
  private chunks: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(value.length);
    for (const b of value) this.chunks.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, true);
    for (let i = 0; i < 8; i++) this.chunks.push(view.getUint8(i));
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Encodes an AnyValue holding a scalar (the only kinds resource detection produces). */
export function encodeAnyValue(value: AnyValue): Uint8Array {
  const w = new Writer();
  if (value.stringValue != null) w.string(1, value.stringValue);
  else if (value.boolValue != null) w.tag(2, WIRE_VARINT).varint(value.boolValue ? 1 : 0);
  else if (value.intValue != null) w.tag(3, WIRE_VARINT).varint(BigInt(String(value.intValue)));
  else if (value.doubleValue != null) w.double(4, value.doubleValue);
  return w.finish();
}

/** Encodes a KeyValue with a scalar value. */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const w = new Writer().string(1, kv.key);
  if (kv.value) w.bytes(2, encodeAnyValue(kv.value));
  return w.finish();
}

/** Tag plus length prefix for a LEN field of the given size. */
export function lenPrefix(field: number, length: number): Uint8Array {
  return new Writer().tag(field, WIRE_LEN).varint(length).finish();
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
