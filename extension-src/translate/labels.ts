/**
 * OTLP attributes to Prometheus labels: sanitized names, values as strings
 * (non-string values per the OpenTelemetry attribute rules), labels whose
 * names collide after sanitizing joined with `;` in the order of the original
 * keys, empty values left out (Prometheus treats them as absent), and the
 * result sorted by name as remote write requires.
 */
import type { AnyValue, KeyValue } from '../otlp/types.js';
import { int64ToNumber } from './int64.js';
import { sanitizeLabelName } from './names.js';

export interface Label {
  readonly name: string;
  readonly value: string;
}

export function anyValueToString(value: AnyValue | null | undefined): string {
  if (value == null) return '';
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue ? 'true' : 'false';
  if (value.intValue != null) return String(int64ToNumber(value.intValue));
  if (value.doubleValue != null) return String(value.doubleValue);
  if (value.arrayValue != null) return JSON.stringify((value.arrayValue.values ?? []).map(anyValueToJson));
  if (value.kvlistValue != null) return JSON.stringify(anyValueToJson(value));
  if (value.bytesValue != null) return Buffer.from(value.bytesValue).toString('base64');
  return '';
}

function anyValueToJson(value: AnyValue | null | undefined): unknown {
  if (value == null) return null;
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue;
  if (value.intValue != null) return int64ToNumber(value.intValue);
  if (value.doubleValue != null) return value.doubleValue;
  if (value.arrayValue != null) return (value.arrayValue.values ?? []).map(anyValueToJson);
  if (value.kvlistValue != null) {
    const out: Record<string, unknown> = {};
    for (const kv of value.kvlistValue.values ?? []) out[kv.key] = anyValueToJson(kv.value);
    return out;
  }
  if (value.bytesValue != null) return Buffer.from(value.bytesValue).toString('base64');
  return null;
}

/** Byte-wise order, as Go's sort of label names. */
export function compareLabels(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Labels of a data point's attributes, sorted by name. `into` receives the
 * labels (so callers can start from resource labels); attributes replace
 * labels of the same name already there.
 */
export function attributesToLabels(attributes: readonly KeyValue[] | undefined, into: Map<string, string>): void {
  if (!attributes || attributes.length === 0) return;
  if (attributes.length === 1) {
    const kv = attributes[0];
    const value = anyValueToString(kv.value);
    if (value !== '') into.set(sanitizeLabelName(kv.key), value);
    return;
  }
  // Collisions after sanitizing are joined in the order of the original keys.
  let collided: Map<string, { key: string; value: string }[]> | undefined;
  const seen = new Map<string, string>();
  for (const kv of attributes) {
    const value = anyValueToString(kv.value);
    if (value === '') continue;
    const name = sanitizeLabelName(kv.key);
    const previousKey = seen.get(name);
    if (previousKey !== undefined && previousKey !== kv.key) {
      collided ??= new Map();
      let parts = collided.get(name);
      if (!parts) {
        parts = [{ key: previousKey, value: into.get(name) ?? '' }];
        collided.set(name, parts);
      }
      parts.push({ key: kv.key, value });
      continue;
    }
    seen.set(name, kv.key);
    into.set(name, value);
  }
  if (collided) {
    for (const [name, parts] of collided) {
      parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      into.set(name, parts.map((p) => p.value).join(';'));
    }
  }
}

/** Sorted label list from a name-to-value map. */
export function sortedLabels(map: Map<string, string>): Label[] {
  const out: Label[] = [];
  for (const [name, value] of map) out.push({ name, value });
  return out.sort(compareLabels);
}

/** One label inserted at its sorted place. */
export function withLabel(base: readonly Label[], label: Label): Label[] {
  const out: Label[] = new Array(base.length + 1);
  let k = 0;
  let placed = false;
  for (let i = 0; i < base.length; i++) {
    if (!placed && label.name < base[i].name) {
      out[k++] = label;
      placed = true;
    }
    out[k++] = base[i];
  }
  if (!placed) out[k] = label;
  return out;
}

/** Floats as label values (`le`, `quantile`): shortest round-trip form, `+Inf`/`-Inf`/`NaN` spelt as Prometheus does. */
export function formatFloat(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** A string that identifies a label set (names and values cannot hold \u0000 after sanitizing names). */
export function labelsKey(labels: readonly Label[]): string {
  let key = '';
  for (const l of labels) key += `${l.name}\u0000${l.value}\u0001`;
  return key;
}

const encoder = new TextEncoder();
/** Room for the `#` and 16 hex digits that end a shortened value. */
const HASH_SUFFIX_BYTES = 17;
/** The smallest value length limit that leaves a useful prefix before the hash. */
export const MIN_LABEL_VALUE_LENGTH = 64;

/** Two 32-bit FNV-1a hashes of the UTF-16 code units, as 16 hex digits: tells apart values with a common prefix. */
function valueHash(value: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/**
 * A label value within `maxBytes` bytes of UTF-8: longer ones become their
 * longest prefix of whole characters that leaves room for `#` and a 16-digit
 * hash of the whole value, so distinct long values stay distinct series.
 */
export function limitLabelValue(value: string, maxBytes: number): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, 2 units, is 4).
  if (value.length * 3 <= maxBytes || Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  const room = new Uint8Array(Math.max(0, maxBytes - HASH_SUFFIX_BYTES));
  // encodeInto writes whole characters only. The prefix is decoded from those bytes rather than sliced:
  // a slice would keep the whole long value alive.
  const { written } = encoder.encodeInto(value, room);
  return `${Buffer.from(room.buffer, 0, written).toString('utf8')}#${valueHash(value)}`;
}
