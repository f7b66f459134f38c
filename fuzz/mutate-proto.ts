/**
 * Structure-aware protobuf mutation without a schema: the input is parsed into
 * its wire fields (length-delimited fields that parse as messages become
 * nested trees), one node is changed (repeated many times, dropped, given an
 * extreme varint, a huge or invalid-UTF-8 string, another field number or wire
 * type, nested in itself), and the tree is written back. Inputs stay close to
 * valid OTLP, so decoders get past the first bytes into the paths that
 * matter: attribute counts, string lengths, 64-bit values, deep nesting.
 */
import type { Rng } from './rng.js';

interface Field {
  no: number;
  wt: number;
  /** varint (wt 0) */
  varint?: bigint;
  /** raw bytes (wt 1, 2, 5) */
  bytes?: Uint8Array;
  /** wt 2 that parsed as a message */
  children?: Field[];
}

const MAX_OUTPUT = 4 * 1024 * 1024;

function readVarint(buf: Uint8Array, pos: number): [bigint, number] | undefined {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return undefined;
    const b = buf[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  return undefined;
}

function parse(buf: Uint8Array, depth: number): Field[] | undefined {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const tag = readVarint(buf, pos);
    if (!tag) return undefined;
    pos = tag[1];
    const no = Number(tag[0] >> 3n);
    const wt = Number(tag[0] & 7n);
    if (no === 0) return undefined;
    if (wt === 0) {
      const v = readVarint(buf, pos);
      if (!v) return undefined;
      out.push({ no, wt, varint: v[0] });
      pos = v[1];
    } else if (wt === 1 || wt === 5) {
      const n = wt === 1 ? 8 : 4;
      if (pos + n > buf.length) return undefined;
      out.push({ no, wt, bytes: buf.subarray(pos, pos + n) });
      pos += n;
    } else if (wt === 2) {
      const len = readVarint(buf, pos);
      if (!len || len[1] + Number(len[0]) > buf.length) return undefined;
      const bytes = buf.subarray(len[1], len[1] + Number(len[0]));
      pos = len[1] + Number(len[0]);
      const children = depth < 12 && bytes.length > 1 ? parse(bytes, depth + 1) : undefined;
      out.push({ no, wt, bytes, children: children && children.length > 0 ? children : undefined });
    } else {
      return undefined;
    }
  }
  return out;
}

function varintBytes(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function write(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields) {
    parts.push(Uint8Array.from(varintBytes((BigInt(f.no) << 3n) | BigInt(f.wt))));
    if (f.wt === 0) parts.push(Uint8Array.from(varintBytes(f.varint ?? 0n)));
    else if (f.wt === 2) {
      const body = f.children ? write(f.children) : (f.bytes ?? new Uint8Array(0));
      parts.push(Uint8Array.from(varintBytes(BigInt(body.length))), body);
    } else parts.push(f.bytes ?? new Uint8Array(f.wt === 1 ? 8 : 4));
  }
  return Buffer.concat(parts);
}

/** Every (list, index) in the tree, so one node can be picked uniformly. */
function nodes(fields: Field[], out: [Field[], number][] = []): [Field[], number][] {
  fields.forEach((f, i) => {
    out.push([fields, i]);
    if (f.children) nodes(f.children, out);
  });
  return out;
}

const EXTREME_VARINTS = [
  0n,
  1n,
  127n,
  128n,
  0x7fffffffn,
  0xffffffffn,
  0x100000000n,
  (1n << 63n) - 1n,
  (1n << 64n) - 1n,
];

function hugeString(rng: Rng): Uint8Array {
  const n = rng.pick([256, 4096, 65_536, 1 << 20]);
  const kind = rng.int(3);
  if (kind === 0) return Buffer.alloc(n, 'a');
  if (kind === 1) return Buffer.alloc(n, 0xff); // invalid UTF-8
  return Buffer.from('\u{1F600}'.repeat(n / 4));
}

export function mutateProto(rng: Rng, input: Uint8Array, other?: Uint8Array): Uint8Array | undefined {
  const tree = parse(input, 0);
  if (!tree || tree.length === 0) return undefined;
  const all = nodes(tree);
  const [list, index] = rng.pick(all);
  const field = list[index];
  switch (rng.int(9)) {
    case 0: {
      // Repeat: more resources, scopes, items, attributes per item.
      const copies = rng.pick([2, 10, 100, 1000, 5000]);
      list.splice(index, 0, ...Array.from({ length: copies }, () => field));
      break;
    }
    case 1:
      list.splice(index, 1);
      break;
    case 2:
      if (field.wt === 0) field.varint = rng.pick(EXTREME_VARINTS);
      else if (field.wt === 1) field.bytes = rng.bytes(8);
      else if (field.wt === 5) field.bytes = rng.bytes(4);
      else {
        field.children = undefined;
        field.bytes = hugeString(rng);
      }
      break;
    case 3:
      field.no = rng.chance(0.5) ? 1 + rng.int(20) : rng.pick([536870911, 19000, 100]);
      break;
    case 4: {
      // Another wire type, same payload where it fits.
      const wt = rng.pick([0, 1, 2, 5]);
      if (wt === field.wt) break;
      list[index] =
        wt === 0
          ? { no: field.no, wt, varint: rng.pick(EXTREME_VARINTS) }
          : { no: field.no, wt, bytes: rng.bytes(wt === 1 ? 8 : wt === 5 ? 4 : rng.size(64)) };
      break;
    }
    case 5: {
      // Nest a message inside itself many times (recursion depth).
      if (!field.children) break;
      let nested: Field = field;
      for (let i = 0, n = rng.pick([10, 100, 1000]); i < n; i++) nested = { no: field.no, wt: 2, children: [nested] };
      list[index] = nested;
      break;
    }
    case 6: {
      // Graft a subtree from another input.
      const donor = other ? parse(other, 0) : undefined;
      if (!donor || donor.length === 0) break;
      const [dList, dIndex] = rng.pick(nodes(donor));
      list.splice(index, 0, dList[dIndex]);
      break;
    }
    case 7:
      if (field.children) field.children = field.children.slice(0, rng.int(field.children.length));
      break;
    default:
      if (field.wt === 2 && !field.children) field.bytes = rng.bytes(rng.size(64));
      break;
  }
  const out = write(tree);
  // Inputs far over any receiver limit only slow the run down; size limits have their own cases.
  return out.length > MAX_OUTPUT ? undefined : out;
}
