/**
 * OTLP exemplars to Prometheus exemplars: the trace and span ids as
 * `trace_id` / `span_id` labels (as the specification asks), the filtered
 * attributes beside them while the OpenMetrics size limit allows.
 */
import type { Exemplar } from '../otlp/types.js';
import { int64ToNumber, nanosToMillis } from './int64.js';
import { attributesToLabels, compareLabels, type Label } from './labels.js';
import type { PromExemplar } from './series.js';

/** OpenMetrics caps an exemplar's label set (names and values) at 128 characters. */
const MAX_EXEMPLAR_LABEL_RUNES = 128;

export function toPromExemplars(exemplars: Exemplar[] | undefined): PromExemplar[] | undefined {
  if (!exemplars || exemplars.length === 0) return undefined;
  return exemplars.map(toPromExemplar);
}

/** Exemplars per classic bucket: each goes to the first bucket whose upper bound holds its value. */
export function bucketExemplars(
  exemplars: Exemplar[] | undefined,
  bounds: number[],
): (PromExemplar[] | undefined)[] | undefined {
  if (!exemplars || exemplars.length === 0) return undefined;
  const perBucket: (PromExemplar[] | undefined)[] = new Array(bounds.length + 1);
  for (const e of exemplars) {
    const ex = toPromExemplar(e);
    let i = 0;
    while (i < bounds.length && ex.value > bounds[i]) i++;
    let bucket = perBucket[i];
    if (!bucket) {
      bucket = [];
      perBucket[i] = bucket;
    }
    bucket.push(ex);
  }
  return perBucket;
}

function toPromExemplar(e: Exemplar): PromExemplar {
  const labels: Label[] = [];
  const spanId = hex(e.spanId);
  const traceId = hex(e.traceId);
  let runes = 0;
  if (spanId) {
    labels.push({ name: 'span_id', value: spanId });
    runes += 7 + spanId.length;
  }
  if (traceId) {
    labels.push({ name: 'trace_id', value: traceId });
    runes += 8 + traceId.length;
  }
  const filtered = new Map<string, string>();
  attributesToLabels(e.filteredAttributes, filtered);
  let extraRunes = 0;
  for (const [k, v] of filtered) extraRunes += [...k].length + [...v].length;
  // The ids matter most: the attributes come along only when all of them fit.
  if (runes + extraRunes <= MAX_EXEMPLAR_LABEL_RUNES) {
    for (const [name, value] of filtered) if (name !== 'trace_id' && name !== 'span_id') labels.push({ name, value });
  }
  labels.sort(compareLabels);
  return {
    labels,
    value: e.asDouble != null ? e.asDouble : int64ToNumber(e.asInt),
    timestampMs: nanosToMillis(e.timeUnixNano),
  };
}

/** Lower-case hex of an id; an absent or all-zero id (invalid in OpenTelemetry) is empty. */
function hex(bytes: Uint8Array | undefined): string {
  if (!bytes || bytes.length === 0) return '';
  let allZero = true;
  for (const b of bytes) if (b !== 0) allZero = false;
  return allZero ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
