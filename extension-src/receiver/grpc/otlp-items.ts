/**
 * Checks the structure of an encoded OTLP export request and counts its items
 * (spans, metric data points, log records) by walking the protobuf wire format
 * down to the items, without building decoded objects. Every length-delimited
 * level it passes is checked, so truncated or garbled requests are refused.
 */
import type { Signal } from '../../otlp/types.js';
import { WireFormatError } from '../../wire/error.js';
import { fields, WIRE_LEN } from '../../wire/reader.js';

/** Metric fields that hold data points: gauge 5, sum 7, histogram 9, exponential histogram 10, summary 11. */
const METRIC_DATA_FIELDS = new Set([5, 7, 9, 10, 11]);

function countLen(buf: Uint8Array, start: number, end: number, field: number, each: (s: number, e: number) => number) {
  let n = 0;
  for (const f of fields(buf, start, end)) {
    if (f.field !== field) continue;
    if (f.wireType !== WIRE_LEN) throw new WireFormatError(`field ${field} is not length-delimited`);
    n += each(f.valueStart, f.end);
  }
  return n;
}

function countDataPoints(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (const f of fields(buf, start, end)) {
    if (!METRIC_DATA_FIELDS.has(f.field)) continue;
    if (f.wireType !== WIRE_LEN) throw new WireFormatError('metric data is not length-delimited');
    n += countLen(buf, f.valueStart, f.end, 1, (s, e) => {
      for (const _ of fields(buf, s, e));
      return 1;
    });
  }
  return n;
}

/** Items in the request; throws WireFormatError when the protobuf structure is broken. */
export function countOtlpItems(signal: Signal, buf: Uint8Array): number {
  return countLen(buf, 0, buf.length, 1, (rs, re) =>
    // Resource{Spans,Metrics,Logs}: resource 1 (checked), scope list 2.
    countLen(buf, rs, re, 2, (ss, se) =>
      // Scope{Spans,Metrics,Logs}: scope 1, items 2.
      countLen(buf, ss, se, 2, (is, ie) => {
        if (signal === 'metrics') return countDataPoints(buf, is, ie);
        for (const _ of fields(buf, is, ie));
        return 1;
      }),
    ),
  );
}
