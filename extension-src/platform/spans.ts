/**
 * Spans for the platform's view of an invocation and of an initialization.
 *
 * How they join the function's own trace. Lambda hands every request an X-Ray
 * header, `Root=1-…;Parent=<id>;Sampled=…`: the runtime gets it (the
 * Lambda-Runtime-Trace-Id header, then _X_AMZN_TRACE_ID), and so does the
 * extension (the INVOKE event's `tracing`). In X-Ray, `Parent` is the id of
 * the AWS::Lambda::Function segment, the segment that covers the invocation
 * (its Invocation and Overhead subsegments) and under which the function's
 * own subsegments hang. A function SDK that takes its parent from
 * _X_AMZN_TRACE_ID makes its root span a child of that same id.
 *
 * So the platform's invoke span plays the function segment: its span id IS
 * the header's Parent id, its trace id the Root converted to W3C (32 hex
 * digits: the 8 of the epoch and the 24 random ones). The function's spans then
 * sit inside it in any trace view, and the invoke span's children are:
 *   - `lambda.runtime` (start to runtimeDone), with children
 *     `lambda.response_latency` and `lambda.response_duration` from
 *     runtimeDone's spans;
 *   - `lambda.post_runtime` (runtimeDone to the end of the report's duration:
 *     what extensions added after the response; X-Ray's "Overhead").
 * The init span (initStart to the end of initReport's duration, X-Ray's
 * "Initialization") joins the trace of the environment's first invocation as
 * a child of its invoke span; an init with no invocation to join (provisioned
 * concurrency, SnapStart, an environment that never ran a request) is a trace
 * of its own.
 *
 * The invoke span's own parent: Lambda's guidance for converting Telemetry API
 * events takes the span id from `tracing.spanId` and the parent from the
 * Telemetry API header's Parent. Where `tracing.spanId` equals the runtime's
 * Parent, the Telemetry API header's Parent is the segment above (the caller
 * or the AWS::Lambda service segment), and it becomes the invoke span's parent;
 * otherwise the invoke span has no known parent and is the local root. A
 * `tracing.spanId` distinct from the runtime's Parent names the runtime span.
 * Without any header (tracing off, or events from an old runtime) the spans
 * get fresh random ids and form a trace of their own.
 *
 * The function's wrapper says where it put the invocation (its flushed notice:
 * the invoke span's trace id, span id and parent, chosen so that the
 * function's invocation span is the invoke span's child). That wins over the
 * header: with a caller's trace in the event (W3C traceparent) or no header at
 * all, only the wrapper knows the trace. The sampled flag is the function's.
 */

import {
  type FunctionTrace,
  newSpanId,
  newTraceId,
  parseXRayHeader,
  sameId,
  spanIdFromHex,
} from '../otlp/trace-context.js';
import type { KeyValue, Span } from '../otlp/types.js';
import { SpanKind, StatusCode } from '../otlp/types.js';
import { toAttributes } from '../resource/attributes.js';
import type { InitRecord, InvocationRecord } from './accumulator.js';
import { msToNanos } from './events.js';

const W3C_SAMPLED = 1;

export interface InvocationTiming {
  startMs: number;
  runtimeEndMs?: number;
  endMs: number;
}

/** Where an invocation's spans sit in the trace. */
export interface InvocationIds {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  runtimeSpanId: Uint8Array;
  sampled: boolean;
}

/** The invocation's ids from what its record holds now; ids made up for it are kept on the record, so its spans and log lines agree. */
export function invocationIds(record: InvocationRecord): InvocationIds {
  return withFunctionTrace(headerIds(record), record.functionTrace);
}

function withFunctionTrace(header: InvocationIds, fn: FunctionTrace | undefined): InvocationIds {
  if (!fn) return header;
  // Lambda's own header again (no caller in the event): the parent above the invoke span is the header's.
  const sameSpan = sameId(fn.traceId, header.traceId) && sameId(fn.spanId, header.spanId);
  return {
    traceId: fn.traceId,
    spanId: fn.spanId,
    parentSpanId: fn.parentSpanId ?? (sameSpan ? header.parentSpanId : undefined),
    runtimeSpanId: header.runtimeSpanId,
    sampled: fn.sampled,
  };
}

function headerIds(record: InvocationRecord): InvocationIds {
  const telemetry = record.start?.tracing ?? record.runtimeDone?.tracing ?? record.report?.tracing;
  const runtimeHeader = record.invoke?.tracing?.value ?? telemetry?.value;
  const runtime = parseXRayHeader(runtimeHeader);
  record.madeUpIds ??= { traceId: newTraceId(), spanId: newSpanId(), runtimeSpanId: newSpanId() };
  const made = record.madeUpIds;
  if (!runtime) return { ...made, sampled: true };
  const spanId = runtime.parentId ?? made.spanId;
  const telemetrySpanId = spanIdFromHex(telemetry?.spanId);
  const telemetryParent = parseXRayHeader(telemetry?.value)?.parentId;
  const parentSpanId =
    sameId(telemetrySpanId, spanId) && telemetryParent && !sameId(telemetryParent, spanId)
      ? telemetryParent
      : undefined;
  const runtimeSpanId = telemetrySpanId && !sameId(telemetrySpanId, spanId) ? telemetrySpanId : made.runtimeSpanId;
  return { traceId: runtime.traceId, spanId, parentSpanId, runtimeSpanId, sampled: runtime.sampled };
}

/** Start, end of the runtime and end of the invocation, in ms, from whichever events arrived. */
export function invocationTiming(record: InvocationRecord): InvocationTiming | undefined {
  const { start, runtimeDone, report } = record;
  const reportDuration = report?.metrics.durationMs;
  const startMs =
    start?.timeMs ??
    (runtimeDone?.durationMs !== undefined ? runtimeDone.timeMs - runtimeDone.durationMs : undefined) ??
    (report && reportDuration !== undefined ? report.timeMs - reportDuration : undefined);
  if (startMs === undefined) return undefined;
  const runtimeEndMs =
    runtimeDone?.durationMs !== undefined ? startMs + runtimeDone.durationMs : (runtimeDone?.timeMs ?? undefined);
  const endMs = reportDuration !== undefined ? startMs + reportDuration : (report?.timeMs ?? runtimeEndMs ?? startMs);
  return { startMs, runtimeEndMs, endMs: Math.max(endMs, runtimeEndMs ?? endMs) };
}

/**
 * The outcome of an invocation: a timeout or error reported by either event
 * wins over success. With neither event (completed at SHUTDOWN without them),
 * an invocation whose deadline had passed timed out; otherwise its outcome is
 * `unknown`, and it is counted as neither success nor failure.
 */
export function invocationStatus(record: InvocationRecord, nowMs?: number): { status: string; errorType?: string } {
  const statuses = [record.runtimeDone, record.report].filter((r) => r !== undefined);
  if (statuses.length === 0) {
    const deadline = record.invoke?.deadlineMs;
    if (record.start && deadline !== undefined && nowMs !== undefined && nowMs >= deadline) {
      return { status: 'timeout' };
    }
    return { status: 'unknown' };
  }
  for (const wanted of ['timeout', 'error', 'failure']) {
    const hit = statuses.find((r) => r.status === wanted);
    if (hit) return { status: wanted, errorType: hit.errorType ?? statuses.find((r) => r.errorType)?.errorType };
  }
  const other = statuses.find((r) => r.status !== 'success');
  return other ? { status: other.status, errorType: other.errorType } : { status: 'success' };
}

function span(
  ids: { traceId: Uint8Array; spanId: Uint8Array; parentSpanId?: Uint8Array; flags: number },
  name: string,
  kind: SpanKind,
  startMs: number,
  endMs: number,
  attributes: KeyValue[],
  status?: { code: StatusCode; message?: string },
): Span {
  return {
    traceId: ids.traceId,
    spanId: ids.spanId,
    parentSpanId: ids.parentSpanId,
    flags: ids.flags,
    name,
    kind,
    startTimeUnixNano: msToNanos(startMs),
    endTimeUnixNano: msToNanos(Math.max(startMs, endMs)),
    attributes,
    status: status ?? { code: StatusCode.UNSET },
  };
}

export interface InvocationSpans {
  spans: Span[];
  ids: InvocationIds;
  timing: InvocationTiming;
}

export function invocationSpans(
  record: InvocationRecord,
  functionName: string,
  coldStart: boolean,
  nowMs?: number,
): InvocationSpans | undefined {
  const timing = invocationTiming(record);
  if (!timing) return undefined;
  const ids = invocationIds(record);
  const flags = ids.sampled ? W3C_SAMPLED : 0;
  const { status, errorType } = invocationStatus(record, nowMs);
  const failed = status !== 'success' && status !== 'unknown';
  const spanStatus = failed
    ? { code: StatusCode.ERROR, message: errorType ? `${status}: ${errorType}` : status }
    : { code: StatusCode.UNSET };
  const metrics = record.report?.metrics;
  const spans: Span[] = [];
  spans.push(
    span(
      { traceId: ids.traceId, spanId: ids.spanId, parentSpanId: ids.parentSpanId, flags },
      functionName,
      SpanKind.SERVER,
      timing.startMs,
      timing.endMs,
      toAttributes({
        'faas.invocation_id': record.requestId,
        'faas.coldstart': coldStart,
        'aws.lambda.invoked_arn': record.invoke?.invokedFunctionArn,
        'faas.version': record.start?.version,
        'aws.lambda.status': status,
        'error.type': failed ? (errorType ?? status) : undefined,
        'aws.lambda.billed_duration_ms': metrics?.billedDurationMs,
        'aws.lambda.max_memory_used_mb': metrics?.maxMemoryUsedMB,
        'aws.lambda.memory_size_mb': metrics?.memorySizeMB,
        'aws.lambda.response_size': record.runtimeDone?.producedBytes,
      }),
      spanStatus,
    ),
  );
  const child = (spanId: Uint8Array, parentSpanId: Uint8Array = ids.spanId) => ({
    traceId: ids.traceId,
    spanId,
    parentSpanId,
    flags,
  });
  if (timing.runtimeEndMs !== undefined) {
    spans.push(
      span(
        child(ids.runtimeSpanId),
        'lambda.runtime',
        SpanKind.INTERNAL,
        timing.startMs,
        timing.runtimeEndMs,
        toAttributes({ 'faas.invocation_id': record.requestId }),
        record.runtimeDone && record.runtimeDone.status !== 'success' ? spanStatus : undefined,
      ),
    );
    for (const phase of record.runtimeDone?.spans ?? []) {
      const name =
        phase.name === 'responseLatency'
          ? 'lambda.response_latency'
          : phase.name === 'responseDuration'
            ? 'lambda.response_duration'
            : `lambda.${phase.name}`;
      spans.push(
        span(
          child(newSpanId(), ids.runtimeSpanId),
          name,
          SpanKind.INTERNAL,
          phase.startMs,
          phase.startMs + phase.durationMs,
          toAttributes({ 'faas.invocation_id': record.requestId }),
        ),
      );
    }
    if (timing.endMs > timing.runtimeEndMs) {
      spans.push(
        span(
          child(newSpanId()),
          'lambda.post_runtime',
          SpanKind.INTERNAL,
          timing.runtimeEndMs,
          timing.endMs,
          toAttributes({ 'faas.invocation_id': record.requestId }),
        ),
      );
    }
  }
  return { spans, ids, timing };
}

/** The init span; `parent` places it in the trace of the invocation it preceded. */
export function initSpan(init: InitRecord, parent: InvocationIds | undefined): Span | undefined {
  const startMs =
    init.start?.timeMs ??
    (init.report?.durationMs !== undefined ? init.report.timeMs - init.report.durationMs : undefined);
  if (startMs === undefined) return undefined;
  const endMs =
    init.report?.durationMs !== undefined
      ? startMs + init.report.durationMs
      : (init.report?.timeMs ?? init.runtimeDone?.timeMs ?? startMs);
  const fields = { ...init.start, ...init.runtimeDone, ...init.report };
  const status = init.report?.status ?? init.runtimeDone?.status;
  const failed = status !== undefined && status !== 'success';
  const errorType = init.report?.errorType ?? init.runtimeDone?.errorType;
  return span(
    {
      traceId: parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      parentSpanId: parent?.spanId,
      flags: parent && !parent.sampled ? 0 : W3C_SAMPLED,
    },
    init.kind === 'restore' ? 'lambda.restore' : 'lambda.init',
    SpanKind.INTERNAL,
    startMs,
    endMs,
    toAttributes({
      'aws.lambda.init.phase': init.start?.phase ?? fields.phase,
      'aws.lambda.init.type': init.start?.initializationType ?? fields.initializationType,
      'aws.lambda.runtime.version': init.start?.runtimeVersion,
      'aws.lambda.runtime.version_arn': init.start?.runtimeVersionArn,
      'aws.lambda.status': status,
      'error.type': failed ? (errorType ?? status) : undefined,
    }),
    failed ? { code: StatusCode.ERROR, message: errorType ? `${status}: ${errorType}` : status } : undefined,
  );
}
