/**
 * Merges the detected Lambda resource under the resource the function's SDK
 * sent. What the SDK set always wins; detected attributes only fill gaps.
 * One exception: an SDK with no configured service name sends the spec's
 * fallback `unknown_service[:<process>]`, which says nothing; the function's
 * name replaces it.
 *
 * `enrichPayload` does the same on an encoded OTLP export request of any
 * signal without decoding it: the three requests share their outer shape
 * (field 1: repeated Resource{Spans,Metrics,Logs}, whose field 1 is the
 * Resource, whose field 1 is repeated KeyValue), so only the small Resource
 * messages are read and rewritten and everything else is copied as bytes.
 */
import type { KeyValue, Resource } from '../otlp/types.js';
import { decodeString, fields, WIRE_LEN, type WireField } from '../wire/reader.js';
import { concat, encodeKeyValue, lenPrefix } from './wire.js';

const SERVICE_NAME = 'service.name';

function isFallbackServiceName(value: string | null | undefined): boolean {
  return typeof value === 'string' && value.startsWith('unknown_service');
}

/** A new Resource: `existing` plus every detected attribute whose key it lacks. */
export function enrichResource(existing: Resource | null | undefined, detected: readonly KeyValue[]): Resource {
  const attributes = [...(existing?.attributes ?? [])];
  const present = new Set(attributes.map((a) => a.key));
  const fallback = attributes.findIndex((a) => a.key === SERVICE_NAME && isFallbackServiceName(a.value?.stringValue));
  if (fallback >= 0 && detected.some((d) => d.key === SERVICE_NAME)) {
    attributes.splice(fallback, 1);
    present.delete(SERVICE_NAME);
  }
  for (const attribute of detected) {
    if (!present.has(attribute.key)) attributes.push(attribute);
  }
  return { ...(existing ?? {}), attributes };
}

/** Key and string value of an encoded KeyValue. */
function readKeyValue(buf: Uint8Array, kv: WireField): { key: string; stringValue?: string } {
  let key = '';
  let stringValue: string | undefined;
  for (const f of fields(buf, kv.valueStart, kv.end)) {
    if (f.field === 1 && f.wireType === WIRE_LEN) key = decodeString(buf, f);
    else if (f.field === 2 && f.wireType === WIRE_LEN) {
      for (const v of fields(buf, f.valueStart, f.end)) {
        if (v.field === 1 && v.wireType === WIRE_LEN) stringValue = decodeString(buf, v);
      }
    }
  }
  return { key, stringValue };
}

/** Rewrites one encoded Resource message (may be empty) with the missing detected attributes appended. */
function enrichResourceBytes(buf: Uint8Array, start: number, end: number, detected: readonly EncodedAttribute[]) {
  const present = new Set<string>();
  const parts: Uint8Array[] = [];
  const detectsServiceName = detected.some((d) => d.key === SERVICE_NAME);
  let copiedUpTo = start;
  for (const f of fields(buf, start, end)) {
    if (f.field !== 1 || f.wireType !== WIRE_LEN) continue;
    const { key, stringValue } = readKeyValue(buf, f);
    if (key === SERVICE_NAME && detectsServiceName && isFallbackServiceName(stringValue)) {
      parts.push(buf.subarray(copiedUpTo, f.start));
      copiedUpTo = f.end;
      continue;
    }
    present.add(key);
  }
  parts.push(buf.subarray(copiedUpTo, end));
  let added = false;
  for (const attribute of detected) {
    if (present.has(attribute.key)) continue;
    parts.push(attribute.field);
    added = true;
  }
  if (!added && copiedUpTo === start) return undefined;
  return concat(parts);
}

interface EncodedAttribute {
  key: string;
  /** The whole `attributes` field (tag, length, KeyValue). */
  field: Uint8Array;
}

/** Precomputes the encoded form of detected attributes, to enrich many payloads cheaply. */
export function encodeDetected(detected: readonly KeyValue[]): EncodedAttribute[] {
  return detected.map((kv) => {
    const body = encodeKeyValue(kv);
    return { key: kv.key, field: concat([lenPrefix(1, body.length), body]) };
  });
}

/**
 * Enriches every resource in an encoded OTLP export request (traces, metrics
 * or logs). Returns the input itself when nothing changes. Throws on
 * malformed protobuf.
 */
export function enrichPayload(bytes: Uint8Array, detected: readonly KeyValue[] | EncodedAttribute[]): Uint8Array {
  const encoded: EncodedAttribute[] =
    detected.length > 0 && 'field' in detected[0]
      ? (detected as EncodedAttribute[])
      : encodeDetected(detected as KeyValue[]);
  if (encoded.length === 0) return bytes;
  const out: Uint8Array[] = [];
  let changed = false;
  let copiedUpTo = 0;
  for (const top of fields(bytes)) {
    if (top.field !== 1 || top.wireType !== WIRE_LEN) continue;
    // One Resource{Spans,Metrics,Logs}: rewrite its resource field(s), or add one.
    const inner: Uint8Array[] = [];
    let innerCopied = top.valueStart;
    let sawResource = false;
    let innerChanged = false;
    for (const f of fields(bytes, top.valueStart, top.end)) {
      if (f.field !== 1 || f.wireType !== WIRE_LEN) continue;
      sawResource = true;
      const rewritten = enrichResourceBytes(bytes, f.valueStart, f.end, encoded);
      if (!rewritten) continue;
      inner.push(bytes.subarray(innerCopied, f.start), lenPrefix(1, rewritten.length), rewritten);
      innerCopied = f.end;
      innerChanged = true;
    }
    if (!sawResource) {
      const resource = concat(encoded.map((e) => e.field));
      inner.push(lenPrefix(1, resource.length), resource);
      innerChanged = true;
    }
    if (!innerChanged) continue;
    inner.push(bytes.subarray(innerCopied, top.end));
    const body = concat(inner);
    out.push(bytes.subarray(copiedUpTo, top.start), lenPrefix(1, body.length), body);
    copiedUpTo = top.end;
    changed = true;
  }
  if (!changed) return bytes;
  out.push(bytes.subarray(copiedUpTo));
  return concat(out);
}
