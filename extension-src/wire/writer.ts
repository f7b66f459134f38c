/**
 * Writing the protobuf wire format into one growing buffer. Nested messages
 * are written in place: `begin` leaves one byte for the length (most messages
 * are shorter than 128 bytes) and `end` fills it in, moving the message only
 * when its length needs more bytes. Strings are encoded apart and copied in:
 * LLRT's `Buffer.write` costs the whole buffer's length per call (2.9 ms on a
 * 64 KiB buffer against 3 us for `Buffer.from` + `set`); on Node.js both take
 * the same time. Strings that recur in every payload (names, keys, units)
 * can be written through a bounded cache of their encoded bytes.
 */

// Wire types, as in reader.ts; local because an imported binding costs a call per use where modules are
// loaded one by one (tsx, vitest), and these are read for every field written.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** Bounds of the encoded-string cache: entries, and the longest string kept. */
const CACHED_STRINGS_MAX = 2048;
const CACHED_STRING_MAX_LENGTH = 128;

/** Bytes the varint of a non-negative number takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

export class WireWriter {
  private buf: Buffer;
  private view: DataView;
  /** Bytes written so far. */
  pos = 0;
  /** UTF-8 bytes of the strings written with `cachedString`. */
  private readonly strings = new Map<string, Buffer>();

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Starts over, keeping the buffer. */
  reset(): void {
    this.pos = 0;
  }

  /** The bytes written so far (a view; copy before reusing the writer). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written between two positions, in a buffer of its own. */
  copy(start = 0, end = this.pos): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, start, end);
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

  // ---- values (after their tag) ----

  /** A non-negative integer up to 2^53, or a negative one as ten-byte two's complement (int32, int64). */
  varint(value: number): void {
    this.ensure(10);
    if (value < 0) {
      this.varint64(BigInt(Math.trunc(value)));
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    while (value >= 0x80) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[pos] = value;
    this.pos = pos + 1;
  }

  /** Any 64-bit integer, signed or not, as its unsigned 64-bit varint. */
  varint64(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  /** Zigzag (sint32, sint64), without 32-bit overflow. */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  fixed64(value: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, value), true);
    this.pos += 8;
  }

  /** A fixed64 value given as its two 32-bit halves (as a Long holds it), without the cost of a BigInt. */
  fixed64Bits(high: number, low: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, low >>> 0, true);
    this.view.setUint32(this.pos + 4, high >>> 0, true);
    this.pos += 8;
  }

  doubleValue(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Length and bytes of a LEN value. */
  lengthDelimited(data: Uint8Array): void {
    const length = data.length;
    this.ensure(length + 10);
    if (length < 0x80) this.buf[this.pos++] = length;
    else this.varint(length);
    this.buf.set(data, this.pos);
    this.pos += length;
  }

  /** Length and UTF-8 bytes of a string value. */
  stringValue(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.ensure(bytes.length + 10);
    this.varint(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Bytes already encoded elsewhere (e.g. a cached block of fields). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  // ---- whole fields (tag and value) ----

  /** A field's tag: one byte below field 16 (most fields), a varint above (field numbers below 2^28). */
  tag(field: number, wireType: number): void {
    if (field < 16) {
      this.ensure(1);
      this.buf[this.pos++] = (field << 3) | wireType;
    } else {
      this.varint((field << 3) | wireType);
    }
  }

  string(field: number, value: string): void {
    this.tag(field, LEN);
    this.stringValue(value);
  }

  /**
   * A string field whose UTF-8 bytes are kept for the next ones: for names,
   * keys and units that recur in every payload. The cache is bounded (short
   * strings only, emptied when full): values that never recur cost little.
   */
  cachedString(field: number, value: string): void {
    const cache = this.strings;
    let bytes = cache.get(value);
    if (bytes === undefined) {
      bytes = Buffer.from(value, 'utf8');
      if (value.length <= CACHED_STRING_MAX_LENGTH) {
        if (cache.size >= CACHED_STRINGS_MAX) cache.clear();
        cache.set(value, bytes);
      }
    }
    this.tag(field, LEN);
    this.lengthDelimited(bytes);
  }

  /** A bytes field (or a string field already encoded). */
  bytesField(field: number, data: Uint8Array): void {
    this.tag(field, LEN);
    this.lengthDelimited(data);
  }

  double(field: number, value: number): void {
    this.ensure(18);
    this.fixed64Tag(field);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** A double given as its two 32-bit halves, for NaN payloads that must survive exactly. */
  doubleBits(field: number, high: number, low: number): void {
    this.ensure(18);
    this.fixed64Tag(field);
    this.fixed64Bits(high, low);
  }

  /** The tag of a fixed64 field, room for which is ensured: one byte below field 16 (the hot fields). */
  private fixed64Tag(field: number): void {
    if (field < 16) this.buf[this.pos++] = (field << 3) | FIXED64;
    else this.varint((field << 3) | FIXED64);
  }

  /** int32, int64, uint32, uint64, enum or bool (as 0 or 1) given as a number. */
  integer(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  sint(field: number, value: number): void {
    this.tag(field, VARINT);
    this.zigzag(value);
  }

  fixed32Field(field: number, value: number): void {
    this.tag(field, FIXED32);
    this.fixed32(value);
  }

  /** Starts a nested message (or other LEN field written piece by piece); pass the result to `end`. */
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
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    this.buf.copy(this.buf, lengthAt + 1 + extra, lengthAt + 1, this.pos);
    this.pos = lengthAt;
    this.varint(length);
    this.pos += length;
  }

  /** A packed repeated sint32/sint64 field (nothing when empty). */
  packedSint(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    const at = this.begin(field);
    for (const v of values) this.zigzag(v);
    this.end(at);
  }
}
