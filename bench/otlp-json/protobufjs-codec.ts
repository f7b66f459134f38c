/**
 * The other way to convert OTLP/JSON, measured against extension-src/otlp/json.ts: the generated
 * protobufjs code the extension already bundles (`fromObject` + `encode`, `decode` + `toObject`),
 * with the one OTLP/JSON rule protobufjs does not know (trace and span ids as hex, not base64)
 * applied by a walk over the object. Benchmark code only.
 */
import { messageTypes } from '../../extension-src/otlp/proto.js';
import type { Signal } from '../../extension-src/otlp/types.js';

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);
const ITEM_KEYS = new Set(['spans', 'dataPoints', 'logRecords']);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Hex ids to bytes, in place; returns the items (spans, data points, log records) seen. */
function idsToBytes(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) {
    let items = 0;
    for (const v of value) items += idsToBytes(v);
    return items;
  }
  const record = value as Record<string, unknown>;
  let items = 0;
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (ID_KEYS.has(key) && typeof v === 'string') {
      if (!HEX.test(v)) throw new TypeError(`${key}: expected hex characters`);
      record[key] = Buffer.from(v, 'hex');
    } else if (typeof v === 'object') {
      if (ITEM_KEYS.has(key) && Array.isArray(v)) items += v.length;
      items += idsToBytes(v);
    }
  }
  return items;
}

/** Base64 ids (as protobufjs writes bytes) to hex, in place. */
function idsToHex(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) idsToHex(v);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (ID_KEYS.has(key) && typeof v === 'string') record[key] = Buffer.from(v, 'base64').toString('hex');
    else if (typeof v === 'object') idsToHex(v);
  }
}

export function jsonToProtobuf(signal: Signal, json: unknown): { bytes: Uint8Array; items: number } {
  const items = idsToBytes(json);
  const type = messageTypes.request[signal];
  return { bytes: type.encode(type.fromObject(json as Record<string, unknown>)).finish(), items };
}

export function protobufToJson(signal: Signal, bytes: Uint8Array): Record<string, unknown> {
  const type = messageTypes.request[signal];
  const json = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String, json: true });
  idsToHex(json);
  return json;
}
