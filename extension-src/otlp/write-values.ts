/**
 * The OTLP common messages (AnyValue, KeyValue) and int64 fields written
 * straight to protobuf through the wire module's WireWriter, the same bytes
 * as the generated protobufjs code: a field written when it is set. Shared by
 * the platform module's encoder and the resource attributes the extension
 * adds to payloads on the wire.
 */
import { WIRE_VARINT } from '../wire/reader.js';
import type { WireWriter } from '../wire/writer.js';
import type { AnyValue, Int64, KeyValue } from './types.js';

export const isSet = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/** int64: a Long or a number beyond 2^53 through a BigInt, as ten bytes when negative. */
export function writeInt64(out: WireWriter, field: number, value: Int64): void {
  if (typeof value === 'number' && value >= 0 && value < 2 ** 53) {
    out.integer(field, value);
    return;
  }
  out.tag(field, WIRE_VARINT);
  if (typeof value === 'number') out.varint64(BigInt(Math.trunc(value)));
  else out.varint64((BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0));
}

export function writeAnyValue(out: WireWriter, field: number, value: AnyValue): void {
  const at = out.begin(field);
  if (isSet(value.stringValue)) out.cachedString(1, value.stringValue);
  if (isSet(value.boolValue)) out.integer(2, value.boolValue ? 1 : 0);
  if (isSet(value.intValue)) writeInt64(out, 3, value.intValue);
  if (isSet(value.doubleValue)) out.double(4, value.doubleValue);
  if (isSet(value.arrayValue)) {
    const array = out.begin(5);
    for (const item of value.arrayValue.values ?? []) writeAnyValue(out, 1, item);
    out.end(array);
  }
  if (isSet(value.kvlistValue)) {
    const list = out.begin(6);
    writeAttributes(out, 1, value.kvlistValue.values);
    out.end(list);
  }
  if (isSet(value.bytesValue)) out.bytesField(7, value.bytesValue);
  out.end(at);
}

/** A KeyValue's fields (key, value), without its own tag and length. */
export function writeKeyValueFields(out: WireWriter, kv: KeyValue): void {
  if (isSet(kv.key)) out.cachedString(1, kv.key);
  if (isSet(kv.value)) writeAnyValue(out, 2, kv.value);
}

/** Each KeyValue of `list` as repeated field `field`. */
export function writeAttributes(out: WireWriter, field: number, list: readonly KeyValue[] | undefined): void {
  if (!list) return;
  for (const kv of list) {
    const at = out.begin(field);
    writeKeyValueFields(out, kv);
    out.end(at);
  }
}
