/**
 * Reading the protobuf wire format: varints, field tags and lengths, fixed-size
 * values, and the fields of one message, all bounded by the message's end so
 * malformed bytes raise WireFormatError instead of reading past it.
 */
import { WireFormatError } from './error.js';

/** Wire types (the low three bits of a field's tag). */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** The longest varint: ten bytes carry 64 bits. */
const MAX_VARINT_BYTES = 10;

/** A cursor over buf[pos, end). */
export class WireReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** A varint as a number: exact up to 2^53 (tags, lengths, 32-bit values). */
  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const byte = this.buf[this.pos++];
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** A varint as an unsigned 64-bit bigint. */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** Moves past a varint without computing its value. */
  skipVarint(): void {
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new WireFormatError('truncated varint');
      if (this.buf[this.pos++] < 0x80) return;
    }
    throw new WireFormatError('varint longer than 10 bytes');
  }

  /** Moves past `n` bytes and returns where they start. */
  take(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new WireFormatError('field runs past the end of its message');
    this.pos += n;
    return at;
  }

  /** Moves past one value of `wireType` (an unknown field). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.skipVarint();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_LEN:
        this.take(this.varint());
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
  }

  private dataView: DataView | undefined;

  /** A view for the fixed-size values at offsets `take` returns. */
  view(): DataView {
    this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.dataView;
  }
}

/** One field of a message, by offsets into the buffer it was read from. */
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

/** The fields of one message in buf[start, end), in order. Throws WireFormatError on malformed input. */
export function* fields(buf: Uint8Array, start = 0, end = buf.length): Generator<WireField> {
  const reader = new WireReader(buf, start, end);
  while (reader.pos < end) {
    const at = reader.pos;
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0) throw new WireFormatError('field number 0');
    const afterTag = reader.pos;
    if (wireType === WIRE_LEN) {
      const length = reader.varint();
      const valueStart = reader.pos;
      reader.take(length);
      yield { field, wireType, start: at, valueStart, end: reader.pos };
    } else {
      reader.skip(wireType);
      yield { field, wireType, start: at, valueStart: afterTag, end: reader.pos };
    }
  }
}

const textDecoder = new TextDecoder();

/** The UTF-8 text of a LEN field. */
export function decodeString(buf: Uint8Array, f: WireField): string {
  return textDecoder.decode(buf.subarray(f.valueStart, f.end));
}
