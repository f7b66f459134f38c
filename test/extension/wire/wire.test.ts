/**
 * The protobuf wire module, checked against protobufjs (an independent
 * implementation of the same format): what WireWriter writes protobufjs reads
 * back, what protobufjs writes WireReader and `fields` read back, and
 * malformed bytes raise WireFormatError.
 */
import $protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../../extension-src/wire/error.js';
import {
  fields,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireReader,
} from '../../../extension-src/wire/reader.js';
import { varintSize, WireWriter } from '../../../extension-src/wire/writer.js';

const VARINTS = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31 - 1, 2 ** 32, 2 ** 53 - 1];

describe('WireWriter', () => {
  it('writes varints protobufjs reads back, in the bytes varintSize says', () => {
    for (const value of VARINTS) {
      const w = new WireWriter(1);
      w.integer(1, value);
      const r = $protobuf.Reader.create(w.copy());
      expect(r.uint32()).toBe(1 << 3);
      expect(String(r.uint64())).toBe(String(value));
      expect(w.pos).toBe(1 + varintSize(value));
    }
  });

  it("writes negative integers as ten-byte two's complement and sint as zigzag", () => {
    const w = new WireWriter(8);
    w.integer(1, -1);
    w.integer(2, -(2 ** 40));
    w.sint(3, -3);
    w.sint(4, 2 ** 40);
    w.varint64(-5n);
    const r = $protobuf.Reader.create(w.copy());
    r.uint32();
    expect(r.int32()).toBe(-1);
    r.uint32();
    expect(String(r.int64())).toBe(String(-(2 ** 40)));
    r.uint32();
    expect(r.sint32()).toBe(-3);
    r.uint32();
    expect(String(r.sint64())).toBe(String(2 ** 40));
    expect(String(r.int64())).toBe('-5');
    expect(w.pos).toBe(1 + 10 + 1 + 10 + 2 + 7 + 10);
  });

  it('writes doubles, NaN bit patterns, fixed values and UTF-8 strings', () => {
    const w = new WireWriter(4);
    w.double(1, -2.5);
    w.double(20, Number.POSITIVE_INFINITY);
    w.doubleBits(2, 0x7ff00000, 0x00000002);
    w.fixed32Field(3, 0xfffffffe);
    w.tag(4, WIRE_FIXED64);
    w.fixed64(2n ** 64n - 1n);
    w.string(5, 'grüße, 世界 🌍');
    const bytes = w.copy();
    const r = $protobuf.Reader.create(bytes);
    expect(r.uint32()).toBe((1 << 3) | 1);
    expect(r.double()).toBe(-2.5);
    expect(r.uint32()).toBe((20 << 3) | 1);
    expect(r.double()).toBe(Number.POSITIVE_INFINITY);
    r.uint32();
    expect([...bytes.subarray(r.pos, r.pos + 8)]).toEqual([2, 0, 0, 0, 0, 0, 0xf0, 0x7f]);
    r.skip(8);
    r.uint32();
    expect(r.fixed32()).toBe(0xfffffffe);
    r.uint32();
    expect(String(r.fixed64())).toBe('18446744073709551615');
    r.uint32();
    expect(r.string()).toBe('grüße, 世界 🌍');
    expect(r.pos).toBe(bytes.length);
  });

  it('writes nested messages in place, whatever their length, growing from a tiny buffer', () => {
    for (const size of [0, 1, 127, 128, 16_383, 16_384, 100_000]) {
      const w = new WireWriter(2);
      w.integer(1, 7);
      const outer = w.begin(2);
      const inner = w.begin(3);
      w.raw(new Uint8Array(size).fill(0xab));
      w.end(inner);
      w.string(4, 'after');
      w.end(outer);
      w.integer(5, 9);
      const r = $protobuf.Reader.create(w.copy());
      expect([r.uint32(), r.uint32()]).toEqual([1 << 3, 7]);
      expect(r.uint32()).toBe((2 << 3) | 2);
      const outerBytes = r.bytes();
      expect([r.uint32(), r.uint32()]).toEqual([5 << 3, 9]);
      const o = $protobuf.Reader.create(outerBytes);
      expect(o.uint32()).toBe((3 << 3) | 2);
      const payload = o.bytes();
      expect(payload.length).toBe(size);
      expect(payload.every((b) => b === 0xab)).toBe(true);
      o.uint32();
      expect(o.string()).toBe('after');
    }
  });

  it('writes packed sints and nothing for an empty list', () => {
    const w = new WireWriter(1);
    w.packedSint(1, []);
    expect(w.pos).toBe(0);
    w.packedSint(1, [0, -1, 1, -(2 ** 35)]);
    const r = $protobuf.Reader.create(w.copy());
    r.uint32();
    const end = r.uint32() + r.pos;
    const values: string[] = [];
    while (r.pos < end) values.push(String(r.sint64()));
    expect(values).toEqual(['0', '-1', '1', String(-(2 ** 35))]);
  });

  it('writes fixed64 halves, bytes fields and tags of fields 16 and above as protobufjs reads them', () => {
    const w = new WireWriter(1);
    w.tag(1, WIRE_FIXED64);
    w.fixed64Bits(0xffffffff, 0xfffffffe);
    w.tag(2, WIRE_FIXED64);
    w.fixed64Bits(-1, -2);
    w.tag(3, WIRE_FIXED64);
    w.fixed64Bits(0x18ea4f5d, 0x2f8b3a15);
    w.bytesField(4, new Uint8Array([1, 2, 3]));
    w.fixed32Field(16, 5);
    w.integer(2047, 6);
    const r = $protobuf.Reader.create(w.copy());
    expect(r.uint32()).toBe((1 << 3) | 1);
    expect(String(r.fixed64())).toBe('18446744073709551614');
    r.uint32();
    expect(String(r.fixed64())).toBe('18446744073709551614');
    r.uint32();
    expect(String(r.fixed64())).toBe(String((0x18ea4f5dn << 32n) | 0x2f8b3a15n));
    expect(r.uint32()).toBe((4 << 3) | 2);
    expect([...r.bytes()]).toEqual([1, 2, 3]);
    expect(r.uint32()).toBe((16 << 3) | 5);
    expect(r.fixed32()).toBe(5);
    expect(r.uint32()).toBe(2047 << 3);
    expect(r.uint32()).toBe(6);
    expect(r.pos).toBe(w.pos);
  });

  it('writes cached strings as plain ones, the first time, again, and past the cache bounds', () => {
    const values = ['faas.name', 'grüße 🚀 λ', '', 'x'.repeat(129), 'y'.repeat(300)];
    for (let i = 0; i < 2100; i++) values.push(`key-${i}`);
    values.push('faas.name', 'grüße 🚀 λ', 'x'.repeat(129), 'key-0', 'key-2099');
    const cached = new WireWriter(1);
    const plain = new WireWriter(1);
    for (const [field, value] of values.entries()) {
      cached.cachedString(1 + (field % 20), value);
      plain.string(1 + (field % 20), value);
    }
    expect(Buffer.from(cached.copy()).equals(Buffer.from(plain.copy()))).toBe(true);
    const r = $protobuf.Reader.create(cached.copy());
    const read: string[] = [];
    while (r.pos < r.len) {
      r.uint32();
      read.push(r.string());
    }
    expect(read).toEqual(values);
  });

  it('starts over on reset and copies what it wrote', () => {
    const w = new WireWriter(16);
    w.string(1, 'first');
    const first = w.copy();
    w.reset();
    w.string(1, 'second');
    expect($protobuf.Reader.create(first).skip(1).string()).toBe('first');
    expect($protobuf.Reader.create(w.bytes()).skip(1).string()).toBe('second');
  });
});

/** Every kind of field, written by protobufjs. */
function sample(): Uint8Array {
  const w = $protobuf.Writer.create();
  w.uint32((1 << 3) | WIRE_VARINT).uint64(2 ** 40);
  w.uint32((2 << 3) | WIRE_FIXED64).double(1.5);
  w.uint32((3 << 3) | WIRE_LEN).string('text');
  w.uint32((4 << 3) | WIRE_FIXED32).fixed32(77);
  w.uint32((1000 << 3) | WIRE_VARINT).int64(-1);
  return w.finish();
}

describe('WireReader and fields', () => {
  it('reads every kind of field protobufjs writes', () => {
    const bytes = sample();
    const list = [...fields(bytes)];
    expect(list.map((f) => [f.field, f.wireType])).toEqual([
      [1, WIRE_VARINT],
      [2, WIRE_FIXED64],
      [3, WIRE_LEN],
      [4, WIRE_FIXED32],
      [1000, WIRE_VARINT],
    ]);
    expect(list.at(-1)?.end).toBe(bytes.length);
    const text = list[2];
    expect(Buffer.from(bytes.subarray(text.valueStart, text.end)).toString()).toBe('text');

    const r = new WireReader(bytes);
    expect(r.varint()).toBe(1 << 3);
    expect(r.varint()).toBe(2 ** 40);
    r.varint();
    expect(r.view().getFloat64(r.take(8), true)).toBe(1.5);
    r.skip(r.varint() & 7);
    r.skip(r.varint() & 7);
    r.varint();
    expect(r.varint64()).toBe(2n ** 64n - 1n);
    expect(r.pos).toBe(bytes.length);
  });

  it('reads only within the bounds it is given', () => {
    const bytes = sample();
    const [first, second] = [...fields(bytes)];
    expect([...fields(bytes, first.start, second.end)]).toHaveLength(2);
    expect(() => [...fields(bytes, 0, second.end - 1)]).toThrow(WireFormatError);
  });

  it('refuses every truncation that cuts a field', () => {
    const bytes = sample();
    const boundaries = new Set([...fields(bytes)].map((f) => f.end));
    for (let cut = 1; cut < bytes.length; cut++) {
      const read = () => [...fields(bytes.subarray(0, cut))];
      if (boundaries.has(cut)) expect(read).not.toThrow();
      else expect(read).toThrow(WireFormatError);
    }
  });

  it.each([
    ['field number 0', [0x00, 0x01], 'field number 0'],
    ['group wire types', [(1 << 3) | 3], 'unsupported wire type 3'],
    ['a varint longer than ten bytes', [0x08, ...new Array(10).fill(0xff), 0x01], 'varint longer than 10 bytes'],
    ['a length past the end', [(1 << 3) | 2, 0x05, 0x01], 'runs past the end'],
  ])('refuses %s', (_name, bytes, message) => {
    expect(() => [...fields(Uint8Array.from(bytes))]).toThrow(WireFormatError);
    expect(() => [...fields(Uint8Array.from(bytes))]).toThrow(message);
  });
});
