/**
 * Function and extension log lines (Telemetry API `function` and `extension`
 * events) as OTLP log records.
 *
 * Lambda delivers a line as a string in its text format, or as an object when
 * the function uses Lambda's JSON log format. Both are read:
 * - Node's text format: `<ISO time>\t<request id>\t<LEVEL>\t<message>`;
 *   Python's: `[LEVEL]\t<ISO time>\t<request id>\t<message>`; any line that
 *   starts with `[LEVEL]` or `LEVEL:`; anything else is kept as is, without
 *   a severity.
 * - JSON (an object, or a string that is one): `timestamp`, `level`,
 *   `requestId` and `message` as the runtimes write them; trace context from
 *   `traceId`/`trace_id` + `spanId`/`span_id` (OpenTelemetry log bridges), or
 *   an X-Ray id from `xray_trace_id` (Powertools), `xrayTraceId`,
 *   `AWS-XRAY-TRACE-ID` (the Java runtime's log4j key) or `_X_AMZN_TRACE_ID`,
 *   at the top level or inside a message that is itself a JSON object (a
 *   logger's own JSON line printed through console); every other top-level
 *   field becomes an attribute.
 * The request id is the `faas.invocation_id` attribute (the semantic-convention
 * registry's key; the JS package's constant spells it `faas.invocation.id`).
 */

import { spanIdFromHex, traceIdFromAny } from '../otlp/trace-context.js';
import type { AnyValue, KeyValue, LogRecord } from '../otlp/types.js';
import { anyValue } from '../resource/attributes.js';
import { msToNanos, parseTime } from './events.js';

/** OTLP SeverityNumber for the level names Lambda runtimes and common loggers write. */
const SEVERITY: Record<string, number> = {
  TRACE: 1,
  DEBUG: 5,
  INFO: 9,
  NOTICE: 10,
  WARN: 13,
  WARNING: 13,
  ERROR: 17,
  CRITICAL: 21,
  FATAL: 21,
};

export function severityNumber(level: string | undefined): number {
  return level ? (SEVERITY[level.toUpperCase()] ?? 0) : 0;
}

const NODE_TEXT = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\t([\w-]+)\t([A-Z]+)\t([\s\S]*)$/;
const PYTHON_TEXT = /^\[([A-Z]+)\]\t(\d{4}-\d\d-\d\dT[\d:.]+Z)\t([\w-]+)\t([\s\S]*)$/;
const LEVEL_PREFIX = /^\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)(?:\]|:)\s*([\s\S]*)$/;

const KNOWN_JSON_FIELDS = new Set([
  'timestamp',
  'time',
  'level',
  'requestId',
  'message',
  'msg',
  'traceId',
  'trace_id',
  'spanId',
  'span_id',
  'traceFlags',
  'trace_flags',
  'xray_trace_id',
  'xrayTraceId',
  'AWS-XRAY-TRACE-ID',
  '_X_AMZN_TRACE_ID',
]);

export type LogSource = 'function' | 'extension';

function isUuidLike(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

/** An AnyValue for any JSON value, objects and arrays included. */
export function jsonToAnyValue(value: unknown, depth = 0): AnyValue {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string' || typeof value === 'boolean') return anyValue(value);
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { intValue: value } : { doubleValue: value };
  if (depth > 8) return { stringValue: JSON.stringify(value) };
  if (Array.isArray(value)) return { arrayValue: { values: value.map((v) => jsonToAnyValue(v, depth + 1)) } };
  if (typeof value === 'object') {
    return {
      kvlistValue: {
        values: Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
          key,
          value: jsonToAnyValue(v, depth + 1),
        })),
      },
    };
  }
  return { stringValue: String(value) };
}

function trimNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, s.endsWith('\r\n') ? -2 : -1) : s;
}

/** A JSON object carried in a message: an object, or a string holding one. */
function nestedObject(message: unknown): Record<string, unknown> | undefined {
  if (typeof message === 'object' && message !== null && !Array.isArray(message))
    return message as Record<string, unknown>;
  if (typeof message !== 'string' || !message.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(message);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Sets the record's trace context from OpenTelemetry or X-Ray fields; false when there is none. */
function traceFromFields(obj: Record<string, unknown>, record: LogRecord): boolean {
  const traceId =
    traceIdFromAny(obj.traceId) ??
    traceIdFromAny(obj.trace_id) ??
    traceIdFromAny(obj.xray_trace_id) ??
    traceIdFromAny(obj.xrayTraceId) ??
    traceIdFromAny(obj['AWS-XRAY-TRACE-ID']) ??
    traceIdFromAny(obj._X_AMZN_TRACE_ID);
  if (!traceId) return false;
  record.traceId = traceId;
  const spanId = spanIdFromHex(String(obj.spanId ?? obj.span_id ?? ''));
  if (spanId) record.spanId = spanId;
  const flags = obj.traceFlags ?? obj.trace_flags;
  if (typeof flags === 'number') record.flags = flags & 0xff;
  else if (typeof flags === 'string' && /^[0-9a-f]{1,2}$/i.test(flags)) record.flags = Number.parseInt(flags, 16);
  return true;
}

function fromJson(obj: Record<string, unknown>, record: LogRecord, attributes: KeyValue[]): void {
  const level = typeof obj.level === 'string' ? obj.level : undefined;
  if (level) {
    record.severityText = level;
    record.severityNumber = severityNumber(level);
  }
  const time = parseTime(obj.timestamp) ?? parseTime(obj.time);
  if (time !== undefined) record.timeUnixNano = msToNanos(time);
  if (typeof obj.requestId === 'string') attributes.push({ key: 'faas.invocation_id', value: anyValue(obj.requestId) });
  const message = obj.message ?? obj.msg;
  record.body = message === undefined ? jsonToAnyValue(obj) : jsonToAnyValue(message);
  // Trace fields at the top level, or inside the message when a logger wrote its own JSON object there.
  const inner = nestedObject(message);
  for (const source of inner ? [obj, inner] : [obj]) {
    if (traceFromFields(source, record)) break;
  }
  for (const [key, value] of Object.entries(obj)) {
    if (!KNOWN_JSON_FIELDS.has(key) && value !== undefined) attributes.push({ key, value: jsonToAnyValue(value) });
  }
}

function fromText(line: string, record: LogRecord, attributes: KeyValue[]): void {
  const node = NODE_TEXT.exec(line);
  const python = node ? undefined : PYTHON_TEXT.exec(line);
  if (node || python) {
    const [time, requestId, level, message] = node
      ? [node[1], node[2], node[3], node[4]]
      : [python![2], python![3], python![1], python![4]];
    const t = parseTime(time);
    if (t !== undefined) record.timeUnixNano = msToNanos(t);
    if (isUuidLike(requestId)) attributes.push({ key: 'faas.invocation_id', value: anyValue(requestId) });
    record.severityText = level;
    record.severityNumber = severityNumber(level);
    record.body = { stringValue: trimNewline(message) };
    const inner = nestedObject(message);
    if (inner) traceFromFields(inner, record);
    return;
  }
  const prefixed = LEVEL_PREFIX.exec(line);
  if (prefixed) {
    record.severityText = prefixed[1];
    record.severityNumber = severityNumber(prefixed[1]);
    record.body = { stringValue: trimNewline(prefixed[2]) };
    return;
  }
  record.body = { stringValue: trimNewline(line) };
}

/** One Telemetry API log event as an OTLP log record. */
export function logRecordFromEvent(source: LogSource, timeMs: number, raw: unknown): LogRecord {
  const observed = msToNanos(timeMs);
  const record: LogRecord = { timeUnixNano: observed, observedTimeUnixNano: observed };
  const attributes: KeyValue[] = [{ key: 'aws.lambda.log.source', value: anyValue(source) }];
  let parsed: unknown = raw;
  if (typeof raw === 'string' && raw.trimStart().startsWith('{')) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = raw;
    }
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    fromJson(parsed as Record<string, unknown>, record, attributes);
  } else if (typeof parsed === 'string') {
    fromText(parsed, record, attributes);
  } else {
    record.body = jsonToAnyValue(parsed);
  }
  record.attributes = attributes;
  return record;
}
