/**
 * The few messages the extension adds to OTLP requests on the wire: KeyValue
 * attributes with scalar values, the tag and length that frame them, and the
 * concatenation of copied and new pieces (the wire format itself is in wire/).
 */
import type { KeyValue } from '../otlp/types.js';
import { writeKeyValueFields } from '../otlp/write-values.js';
import { WIRE_LEN } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';

/** Encodes a KeyValue (its fields, without tag and length). */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const w = new WireWriter(64);
  writeKeyValueFields(w, kv);
  return w.copy();
}

/** Reused for the many small prefixes a rewrite needs; each call returns a copy. */
const prefixWriter = new WireWriter(16);

/** Tag plus length prefix for a LEN field of the given size. */
export function lenPrefix(field: number, length: number): Uint8Array {
  prefixWriter.reset();
  prefixWriter.tag(field, WIRE_LEN);
  prefixWriter.varint(length);
  return prefixWriter.copy();
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
