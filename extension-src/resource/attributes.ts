/**
 * Small helpers to build and read OTLP attribute lists (KeyValue[]).
 */
import type { AnyValue, KeyValue } from '../otlp/types.js';

export type AttributeValue = string | number | boolean;

/** An OTLP AnyValue for a plain value; integers stay integers (intValue), other numbers are doubles. */
export function anyValue(value: AttributeValue): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
}

/** KeyValue[] from a record, leaving out undefined values. */
export function toAttributes(record: Record<string, AttributeValue | undefined>): KeyValue[] {
  const out: KeyValue[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (value !== undefined) out.push({ key, value: anyValue(value) });
  }
  return out;
}

/** The plain value of one attribute, or undefined when absent. */
export function attributeValue(attributes: readonly KeyValue[] | undefined, key: string): unknown {
  const found = attributes?.find((a) => a.key === key)?.value;
  if (!found) return undefined;
  if (found.stringValue != null) return found.stringValue;
  if (found.boolValue != null) return found.boolValue;
  if (found.intValue != null) return Number(found.intValue);
  if (found.doubleValue != null) return found.doubleValue;
  return found;
}
