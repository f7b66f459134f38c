/**
 * The few messages the extension adds to OTLP requests on the wire: KeyValue
 * attributes with scalar values, the tag and length that frame them, and the
 * concatenation of copied and new pieces (the wire format itself is in wire/).
 */
import type { AnyValue, KeyValue } from '../otlp/types.js';
import { WIRE_LEN, WIRE_VARINT } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';

/** Writes an AnyValue holding a scalar (the only kinds resource detection produces) as field `field`. */
function writeAnyValue(w: WireWriter, field: number, value: AnyValue): void {
  const at = w.begin(field);
  if (value.stringValue != null) w.string(1, value.stringValue);
  else if (value.boolValue != null) w.integer(2, value.boolValue ? 1 : 0);
  else if (value.intValue != null) {
    w.tag(3, WIRE_VARINT);
    w.varint64(BigInt(String(value.intValue)));
  } else if (value.doubleValue != null) w.double(4, value.doubleValue);
  w.end(at);
}

/** Encodes a KeyValue with a scalar value. */
export function encodeKeyValue(kv: KeyValue): Uint8Array {
  const w = new WireWriter(64);
  w.string(1, kv.key);
  if (kv.value) writeAnyValue(w, 2, kv.value);
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
