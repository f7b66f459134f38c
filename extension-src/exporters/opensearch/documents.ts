/**
 * OTLP log records and spans as OpenSearch documents.
 *
 * The shape follows OpenSearch's Simple Schema for Observability (ss4o, the
 * OpenTelemetry-based schema of OpenSearch's Observability plugins and
 * integrations), so its log and trace views read the documents as they are:
 *
 * log:  @timestamp, observedTimestamp, traceId, spanId, flags,
 *       severity { text, number }, body, attributes { ... },
 *       resource { ... }, instrumentationScope { name, version }, schemaUrl
 * span: @timestamp (= startTime), traceId, spanId, parentSpanId, traceState,
 *       name, kind (SPAN_KIND_*), startTime, endTime, durationInNanos,
 *       status { code, message }, attributes, resource, instrumentationScope,
 *       events [ { @timestamp, name, attributes } ], links [ { traceId, spanId, attributes } ]
 *
 * Ids are lowercase hex, times ISO 8601 with nanoseconds kept when present,
 * attribute maps are objects keyed by the OTel attribute name (OpenSearch
 * expands the dots into object paths, which keeps `resource.service.name`
 * queryable as such).
 */
import type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportTraceServiceRequest,
  Int64,
  KeyValue,
} from '../../otlp/types.js';

export interface Document {
  /** Epoch ms of the record, to pick a dated index. */
  readonly timeMs: number;
  readonly source: Record<string, unknown>;
}

const SPAN_KINDS = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : undefined;
}

function nanos(value: Int64 | undefined | null): bigint {
  if (value === undefined || value === null) return 0n;
  return BigInt(String(value));
}

/** ISO 8601 with up to nanosecond precision, from unix nanoseconds. */
export function isoFromNanos(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString(); // ...sss Z
  const subMs = ns % 1_000_000n;
  if (subMs === 0n) return base;
  const fraction = `${base.slice(20, 23)}${subMs.toString().padStart(6, '0')}`.replace(/0+$/, '');
  return `${base.slice(0, 19)}.${fraction}Z`;
}

export function plainValue(value: AnyValue | null | undefined): unknown {
  if (!value) return null;
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue;
  if (value.intValue != null) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue != null)
    return Number.isFinite(value.doubleValue) ? value.doubleValue : String(value.doubleValue);
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plainValue);
  if (value.kvlistValue) return attributesObject(value.kvlistValue.values);
  if (value.bytesValue) return Buffer.from(value.bytesValue).toString('base64');
  return null;
}

export function attributesObject(attributes: readonly KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of attributes ?? []) out[kv.key] = plainValue(kv.value);
  return out;
}

function withoutEmpty(source: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined || value === '') delete source[key];
    else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0) {
      delete source[key];
    }
  }
  return source;
}

export function logDocuments(request: ExportLogsServiceRequest, nowMs = Date.now()): Document[] {
  const docs: Document[] = [];
  for (const rl of request.resourceLogs ?? []) {
    const resource = attributesObject(rl.resource?.attributes);
    for (const sl of rl.scopeLogs ?? []) {
      const scope = withoutEmpty({ name: sl.scope?.name, version: sl.scope?.version });
      for (const lr of sl.logRecords ?? []) {
        const observed = nanos(lr.observedTimeUnixNano);
        const time = nanos(lr.timeUnixNano) || observed || BigInt(nowMs) * 1_000_000n;
        docs.push({
          timeMs: Number(time / 1_000_000n),
          source: withoutEmpty({
            '@timestamp': isoFromNanos(time),
            observedTimestamp: observed ? isoFromNanos(observed) : undefined,
            traceId: hex(lr.traceId),
            spanId: hex(lr.spanId),
            flags: lr.flags || undefined,
            severity: withoutEmpty({ text: lr.severityText, number: lr.severityNumber || undefined }),
            body: plainValue(lr.body),
            attributes: attributesObject(lr.attributes),
            resource,
            instrumentationScope: scope,
            schemaUrl: sl.schemaUrl || rl.schemaUrl,
          }),
        });
      }
    }
  }
  return docs;
}

export function spanDocuments(request: ExportTraceServiceRequest): Document[] {
  const docs: Document[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = attributesObject(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope = withoutEmpty({ name: ss.scope?.name, version: ss.scope?.version });
      for (const span of ss.spans ?? []) {
        const start = nanos(span.startTimeUnixNano);
        const end = nanos(span.endTimeUnixNano);
        const source = withoutEmpty({
          '@timestamp': isoFromNanos(start),
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          traceState: span.traceState,
          name: span.name,
          kind: SPAN_KINDS[span.kind ?? 0] ?? 'SPAN_KIND_UNSPECIFIED',
          startTime: isoFromNanos(start),
          endTime: isoFromNanos(end),
          durationInNanos: Number(end > start ? end - start : 0n),
          status: withoutEmpty({ code: STATUS_CODES[span.status?.code ?? 0], message: span.status?.message }),
          attributes: attributesObject(span.attributes),
          resource,
          instrumentationScope: scope,
          events: (span.events ?? []).map((e) =>
            withoutEmpty({
              '@timestamp': isoFromNanos(nanos(e.timeUnixNano)),
              name: e.name,
              attributes: attributesObject(e.attributes),
            }),
          ),
          links: (span.links ?? []).map((l) =>
            withoutEmpty({
              traceId: hex(l.traceId),
              spanId: hex(l.spanId),
              attributes: attributesObject(l.attributes),
            }),
          ),
        });
        // Root spans keep an empty parentSpanId, as trace views look for it.
        source.parentSpanId = hex(span.parentSpanId) ?? '';
        docs.push({ timeMs: Number(start / 1_000_000n), source });
      }
    }
  }
  return docs;
}

/**
 * Resolves `%{pattern}` parts of an index name for a time (UTC): yyyy, yy,
 * MM, dd, HH; other characters in the pattern are kept (`%{yyyy.MM.dd}` ->
 * 2026.11.23).
 */
export function indexName(template: string, timeMs: number): string {
  if (!template.includes('%{')) return template;
  const d = new Date(Number.isFinite(timeMs) ? timeMs : Date.now());
  const pad = (n: number) => String(n).padStart(2, '0');
  const tokens: Record<string, string> = {
    yyyy: String(d.getUTCFullYear()),
    yy: String(d.getUTCFullYear()).slice(-2),
    MM: pad(d.getUTCMonth() + 1),
    dd: pad(d.getUTCDate()),
    HH: pad(d.getUTCHours()),
  };
  return template.replace(/%\{([^}]*)\}/g, (_, pattern: string) =>
    pattern.replace(/yyyy|yy|MM|dd|HH/g, (token) => tokens[token]),
  );
}
