/**
 * The platform module: Telemetry API events in, OTLP payloads out.
 *
 * How the extension core uses it:
 * - `noteInvoke(...)` for every INVOKE event from the Extensions API /next
 *   (request id, invokedFunctionArn, tracing): it fixes the order of requests
 *   and the trace header the runtime got.
 * - `handleEvents(batch)` with the parsed JSON array of every Telemetry API
 *   POST. Log lines leave at once as one logs payload per batch; an
 *   invocation whose events are all in leaves as one traces payload and is
 *   counted in the metrics. Returns the request ids whose runtimeDone was in
 *   the batch, so the lifecycle knows those invocations are over.
 * - `flush()` before each pipeline flush: completes invocations whose grace
 *   period has passed and emits the cumulative metrics when they changed.
 *   `flush({ final: true })` at SHUTDOWN completes everything still open.
 * - `settle(deadlineMs)` at SHUTDOWN, before the final flush: waits (bounded)
 *   for the events still on their way, those of every invocation the
 *   extension saw INVOKE for. Lambda emits the last invocation's
 *   platform.report only once the extension is back in /next, and a timed-out
 *   invocation's runtimeDone and report right before the SHUTDOWN; both are
 *   still in the Telemetry API's buffer when SHUTDOWN arrives. A function that
 *   sent its flushed notice lets the extension call /next before even its
 *   start and runtimeDone were delivered, and Lambda keeps delivering them
 *   during the shutdown phase. What is still missing at the final flush is
 *   reported through `onMissingEvents`.
 * - `noteFunctionTrace(requestId, trace)` when the function's flushed notice
 *   says where its wrapper put the invocation in its trace: the platform
 *   spans and the request's log lines join that trace.
 * A function log line belongs to the request its text names (Lambda's text and
 * JSON formats carry the request id), else to the request whose
 * platform.start came last before it in the stream (a line printed with
 * process.stdout.write, say). It gets that request's trace id, and the
 * function's invocation span as its span, unless it carries trace context of
 * its own. A line that arrives before the request's trace is known (the
 * notice, or runtimeDone for a function without the wrapper) waits for it:
 * at most 5 s, or until the request completes or the final flush.
 * Payloads carry the detected Lambda resource (`resource()` is read at every
 * emit, so an account id learned later is used from then on).
 */
import type { OtlpPayload } from '../contracts/payload.js';
import type { FunctionTrace } from '../otlp/trace-context.js';
import type { InstrumentationScope, KeyValue, LogRecord, Span } from '../otlp/types.js';
import {
  type AccumulatorOptions,
  type InitRecord,
  type InvocationRecord,
  type InvokeInfo,
  type MissingEvents,
  TelemetryAccumulator,
} from './accumulator.js';
import { encodeLogs, encodeMetrics, encodeTraces } from './encode.js';
import { readEvent } from './events.js';
import { logRecordFromEvent } from './logs.js';
import { PlatformMetrics } from './metrics.js';
import { type InvocationIds, initSpan, invocationIds, invocationSpans, invocationStatus } from './spans.js';

export type { InvokeInfo, MissingEvents } from './accumulator.js';

export const PLATFORM_SCOPE: InstrumentationScope = { name: 'observed-lambda/platform' };

/** Bound on log lines waiting for their request's trace; beyond it they leave without it. */
const MAX_HELD_LOGS = 2_000;
/** Longest a line waits for its request's trace across flushes (a long invocation's early lines leave then). */
const MAX_HOLD_MS = 5_000;
/** Requests whose trace is known, remembered for lines that arrive after the request completed. */
const REMEMBERED_TRACES = 64;

interface LogTrace {
  traceId: Uint8Array;
  spanId: Uint8Array;
  flags: number;
}

export interface PlatformTelemetryOptions extends AccumulatorOptions {
  /** Hands a payload to the pipeline. */
  emit(payload: OtlpPayload): void;
  /** The detected Lambda resource attributes. */
  resource(): KeyValue[];
  /** Name of the invoke span (the function name, per the FaaS conventions). */
  functionName?: string;
  /** Which signals to produce (default: all). */
  signals?: { traces?: boolean; metrics?: boolean; logs?: boolean };
  /**
   * Whether every INVOKE is followed by platform events (a "platform" subscription the Telemetry API took):
   * then settle() also waits for invocations known only from INVOKE. Default: no.
   */
  platformEventsExpected?: () => boolean;
  /**
   * At SHUTDOWN's final flush, when invocations still miss events: they are completed with what arrived
   * (an invocation with no event at all makes no span and no count).
   */
  onMissingEvents?: (missing: MissingEvents) => void;
  /** Start of the cumulative metrics (default: now). */
  startTimeMs?: number;
  now?: () => number;
}

export interface PlatformStats {
  events: number;
  malformed: number;
  invocations: number;
  spans: number;
  logRecords: number;
  duplicates: number;
  late: number;
  forced: number;
  open: number;
}

export class PlatformTelemetry {
  readonly metrics: PlatformMetrics;
  private readonly accumulator: TelemetryAccumulator;
  private readonly now: () => number;
  private readonly signals: { traces: boolean; metrics: boolean; logs: boolean };
  private pendingInit: InitRecord | undefined;
  private coldCandidate: { requestId?: string; initType?: string } | undefined;
  private firstInvocationDone = false;
  /** The environment's init duration was taken from a report's initDurationMs (its initReport came late or never). */
  private initTakenFromReport = false;
  private readonly counts = { events: 0, malformed: 0, invocations: 0, spans: 0, logRecords: 0 };
  private readonly settleWaiters = new Set<() => void>();
  /** The request whose platform.start came last: lines that name no request belong to it. */
  private currentRequestId: string | undefined;
  /** Requests whose trace is settled (notice or runtimeDone seen), with the trace their lines get. */
  private readonly settledTraces = new Map<string, LogTrace>();
  /** The function's wrapper sends flushed notices: its notice, not runtimeDone, settles a request's trace. */
  private noticesSeen = false;
  /** Function log lines waiting for their request's trace. */
  private heldLogs: { requestId: string; record: LogRecord; sinceMs: number }[] = [];

  constructor(private readonly options: PlatformTelemetryOptions) {
    this.now = options.now ?? Date.now;
    this.accumulator = new TelemetryAccumulator(options);
    this.metrics = new PlatformMetrics(options.startTimeMs ?? this.now());
    this.signals = {
      traces: options.signals?.traces ?? true,
      metrics: options.signals?.metrics ?? true,
      logs: options.signals?.logs ?? true,
    };
  }

  noteInvoke(info: InvokeInfo): void {
    this.accumulator.noteInvoke(info, this.now());
  }

  /** Where the function's wrapper put this request in its trace (its flushed notice). */
  noteFunctionTrace(requestId: string, trace: FunctionTrace): void {
    this.noticesSeen = true;
    if (!this.accumulator.noteFunctionTrace(requestId, trace, this.now())) return;
    this.settledTraces.delete(requestId);
    this.emitLogs(this.traceSettled(requestId));
  }

  /** Takes one Telemetry API batch (the parsed POST body). Never throws. */
  handleEvents(batch: unknown): string[] {
    const now = this.now();
    const logs: LogRecord[] = [];
    const runtimeDone: string[] = [];
    const events = Array.isArray(batch) ? batch : [batch];
    for (const raw of events) {
      this.counts.events++;
      const event = readEvent(raw);
      if (!event) {
        this.counts.malformed++;
        continue;
      }
      switch (event.kind) {
        case 'start':
          this.currentRequestId = event.requestId;
          this.accumulator.addInvocationEvent(event.kind, event.requestId, event.record, now);
          break;
        case 'report':
          this.accumulator.addInvocationEvent(event.kind, event.requestId, event.record, now);
          break;
        case 'runtimeDone':
          runtimeDone.push(event.requestId);
          this.accumulator.addInvocationEvent('runtimeDone', event.requestId, event.record, now);
          // Without the wrapper runtimeDone is all there is; with it, the notice may still be on its way.
          if (!this.noticesSeen && !this.settledTraces.has(event.requestId)) {
            logs.push(...this.traceSettled(event.requestId));
          }
          break;
        case 'initStart':
        case 'initRuntimeDone':
        case 'initReport':
        case 'restoreStart':
        case 'restoreRuntimeDone':
        case 'restoreReport': {
          const restore = event.kind.startsWith('restore');
          const part = event.kind.replace(/^(init|restore)/, '');
          const key = (part.charAt(0).toLowerCase() + part.slice(1)) as 'start' | 'runtimeDone' | 'report';
          this.accumulator.addInitEvent(restore ? 'restore' : 'init', key, event.record, now);
          break;
        }
        case 'logsDropped':
          this.metrics.recordDroppedTelemetry(event.droppedRecords);
          if (this.signals.logs) {
            logs.push(
              logRecordFromEvent(
                'extension',
                event.timeMs,
                `WARN: Lambda dropped ${event.droppedRecords} telemetry records (${event.droppedBytes} bytes): ${event.reason}`,
              ),
            );
          }
          break;
        case 'log':
          if (this.signals.logs) {
            const record = logRecordFromEvent(event.source, event.timeMs, event.record);
            if (event.source !== 'function' || this.placeInTrace(record)) logs.push(record);
          }
          break;
        default:
          break;
      }
    }
    if (logs.length > 0) this.emitLogs(logs);
    this.process(now, false);
    for (const wake of this.settleWaiters) wake();
    return runtimeDone;
  }

  /**
   * Whether an invocation still waits for its report: one whose events began, or, when platform events are
   * expected, any the extension saw INVOKE for.
   */
  awaitingEvents(): boolean {
    return this.accumulator.hasIncomplete(this.options.platformEventsExpected?.() ?? false);
  }

  /** Resolves once no invocation waits for Telemetry API events (awaitingEvents), or at `deadlineMs`. */
  settle(deadlineMs: number): Promise<void> {
    if (!this.awaitingEvents() || this.now() >= deadlineMs) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.settleWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (!this.awaitingEvents()) finish();
      };
      const timer = setTimeout(finish, Math.max(0, deadlineMs - this.now()));
      this.settleWaiters.add(check);
    });
  }

  /** Completes what is due and emits the metrics if they changed (or always, with `final`). */
  flush(options: { final?: boolean } = {}): void {
    const now = this.now();
    const final = options.final ?? false;
    if (final) {
      const missing = this.accumulator.missingEvents(this.options.platformEventsExpected?.() ?? false);
      if (missing.invocations > 0) this.options.onMissingEvents?.(missing);
    }
    // Lines still waiting for a request in progress stay, for a while; the final flush takes them all.
    this.emitLogs(
      this.releaseHeldLogs(
        (requestId, sinceMs) => final || now - sinceMs >= MAX_HOLD_MS || !this.accumulator.openRecord(requestId),
      ),
    );
    this.process(now, final);
    if (final && this.pendingInit) {
      this.emitSpans(this.initSpans(this.pendingInit, undefined));
      this.pendingInit = undefined;
    }
    if (this.signals.metrics && (this.metrics.dirty || options.final)) {
      this.metrics.dirty = false;
      const metrics = this.metrics.toMetrics(now);
      const bytes = encodeMetrics({
        resourceMetrics: [
          { resource: { attributes: this.options.resource() }, scopeMetrics: [{ scope: PLATFORM_SCOPE, metrics }] },
        ],
      });
      this.options.emit({ signal: 'metrics', bytes, items: this.metrics.pointCount() });
    }
  }

  stats(): PlatformStats {
    const a = this.accumulator.stats;
    return { ...this.counts, duplicates: a.duplicates, late: a.late, forced: a.forced, open: a.open };
  }

  private process(now: number, all: boolean): void {
    const { invocations, inits } = this.accumulator.take(now, all);
    const spans: Span[] = [];
    for (const init of inits) {
      const durationMs = init.report?.durationMs;
      const type = init.start?.initializationType ?? init.report?.initializationType;
      const phase = init.start?.phase ?? init.report?.phase;
      const alreadyCounted = this.initTakenFromReport && phase !== 'invoke';
      if (init.kind === 'init' && durationMs !== undefined && !alreadyCounted) this.metrics.recordInit(durationMs);
      // An on-demand init in the init phase precedes the environment's first request: that one is the cold start.
      if (
        init.kind === 'init' &&
        !this.firstInvocationDone &&
        phase !== 'invoke' &&
        type !== 'provisioned-concurrency'
      ) {
        this.coldCandidate = { initType: type };
        this.pendingInit = init;
      } else {
        spans.push(...this.initSpans(init, undefined));
      }
    }
    for (const record of invocations) {
      // Lines still waiting for this request leave with what is known of its trace now that it is complete.
      if (this.heldLogs.some((held) => held.requestId === record.requestId)) {
        this.settledTraces.set(record.requestId, logTraceOf(record));
        this.emitLogs(this.releaseHeldLogs((id) => id === record.requestId));
      }
      // Known only from INVOKE (no platform events: the "platform" stream is not subscribed, or they were lost).
      if (!record.start && !record.runtimeDone && !record.report) continue;
      this.counts.invocations++;
      const reportedInit = record.report?.metrics.initDurationMs;
      const restored = record.report?.metrics.restoreDurationMs !== undefined;
      const first = !this.firstInvocationDone && (record.sequence === undefined || record.sequence === 1);
      // Lambda reports initDurationMs (or restoreDurationMs, SnapStart) on an environment's first request only.
      const coldStart = reportedInit !== undefined || restored || (first && this.coldCandidate !== undefined);
      if (first) this.firstInvocationDone = true;
      // A cold start Lambda reported but whose initReport never came still counts its init duration.
      if (reportedInit !== undefined && !this.pendingInit && this.metrics.initDuration.count === 0) {
        this.metrics.recordInit(reportedInit);
        this.initTakenFromReport = true;
      }
      const { status } = invocationStatus(record, now);
      const runtimeMs = record.runtimeDone?.durationMs;
      const reportMs = record.report?.metrics.durationMs;
      const phase = (name: string) => record.runtimeDone?.spans.find((s) => s.name === name)?.durationMs;
      this.metrics.recordInvocation({
        status,
        coldStart,
        durationMs: reportMs ?? runtimeMs,
        billedDurationMs: record.report?.metrics.billedDurationMs,
        runtimeDurationMs: runtimeMs,
        postRuntimeDurationMs:
          reportMs !== undefined && runtimeMs !== undefined ? Math.max(0, reportMs - runtimeMs) : undefined,
        maxMemoryUsedMB: record.report?.metrics.maxMemoryUsedMB,
        producedBytes: record.runtimeDone?.producedBytes,
        responseLatencyMs: phase('responseLatency'),
        responseDurationMs: phase('responseDuration'),
      });
      if (!this.signals.traces) continue;
      const built = invocationSpans(record, this.functionName(), coldStart, now);
      if (!built) continue;
      spans.push(...built.spans);
      if (coldStart && this.pendingInit) {
        spans.push(...this.initSpans(this.pendingInit, built.ids));
        this.pendingInit = undefined;
      }
    }
    if (spans.length > 0) this.emitSpans(spans);
  }

  /**
   * Gives a function log line its request (faas.invocation_id) and, once known, that request's trace.
   * False when the line waits for the trace (it is held, and emitted when the trace is settled).
   */
  private placeInTrace(record: LogRecord): boolean {
    const attributes = record.attributes ?? [];
    let requestId = attributes.find((a) => a.key === 'faas.invocation_id')?.value?.stringValue;
    if (!requestId && this.currentRequestId) {
      requestId = this.currentRequestId;
      attributes.push({ key: 'faas.invocation_id', value: { stringValue: requestId } });
      record.attributes = attributes;
    }
    if (!requestId || record.traceId?.length) return true;
    const trace = this.settledTraces.get(requestId);
    if (trace) {
      stampTrace(record, trace);
      return true;
    }
    // A request the extension does not know (or knows complete) has no trace to wait for.
    if (!this.accumulator.openRecord(requestId)) return true;
    if (this.heldLogs.length >= MAX_HELD_LOGS) this.emitLogs(this.releaseHeldLogs(() => true));
    this.heldLogs.push({ requestId, record, sinceMs: this.now() });
    return false;
  }

  /** The request's trace is known from now on: returns its held lines, which now carry it. */
  private traceSettled(requestId: string): LogRecord[] {
    const trace = this.logTrace(requestId);
    if (!trace) return [];
    this.settledTraces.set(requestId, trace);
    if (this.settledTraces.size > REMEMBERED_TRACES) {
      const oldest = this.settledTraces.keys().next().value;
      if (oldest !== undefined) this.settledTraces.delete(oldest);
    }
    return this.releaseHeldLogs((id) => id === requestId);
  }

  /** The trace a request's lines get, as far as it is known now (from an open record). */
  private logTrace(requestId: string): LogTrace | undefined {
    const record = this.accumulator.openRecord(requestId);
    return record ? logTraceOf(record) : undefined;
  }

  /**
   * Takes the held lines of the requests `which` picks, each with its request's trace: settled, or
   * as far as it is known now (Lambda's header) for a request still waiting for it.
   */
  private releaseHeldLogs(which: (requestId: string, sinceMs: number) => boolean): LogRecord[] {
    if (this.heldLogs.length === 0) return [];
    const leaving: LogRecord[] = [];
    const staying: typeof this.heldLogs = [];
    for (const held of this.heldLogs) {
      if (!which(held.requestId, held.sinceMs)) {
        staying.push(held);
        continue;
      }
      const trace = this.settledTraces.get(held.requestId) ?? this.logTrace(held.requestId);
      if (trace) stampTrace(held.record, trace);
      leaving.push(held.record);
    }
    this.heldLogs = staying;
    return leaving;
  }

  private initSpans(init: InitRecord, parent: InvocationIds | undefined): Span[] {
    if (!this.signals.traces) return [];
    const span = initSpan(init, parent);
    return span ? [span] : [];
  }

  private functionName(): string {
    if (this.options.functionName) return this.options.functionName;
    const name = this.options.resource().find((a) => a.key === 'faas.name')?.value?.stringValue;
    return name ?? 'lambda.invoke';
  }

  private emitSpans(spans: Span[]): void {
    if (spans.length === 0) return;
    this.counts.spans += spans.length;
    const bytes = encodeTraces({
      resourceSpans: [
        { resource: { attributes: this.options.resource() }, scopeSpans: [{ scope: PLATFORM_SCOPE, spans }] },
      ],
    });
    this.options.emit({ signal: 'traces', bytes, items: spans.length });
  }

  private emitLogs(logRecords: LogRecord[]): void {
    if (logRecords.length === 0) return;
    this.counts.logRecords += logRecords.length;
    const bytes = encodeLogs({
      resourceLogs: [
        { resource: { attributes: this.options.resource() }, scopeLogs: [{ scope: PLATFORM_SCOPE, logRecords }] },
      ],
    });
    this.options.emit({ signal: 'logs', bytes, items: logRecords.length });
  }
}

function logTraceOf(record: InvocationRecord): LogTrace {
  const ids = invocationIds(record);
  return {
    traceId: ids.traceId,
    // A function span sampled out is never exported: the line then points at the platform's invoke span.
    spanId: (ids.sampled ? record.functionTrace?.functionSpanId : undefined) ?? ids.spanId,
    flags: ids.sampled ? 1 : 0,
  };
}

function stampTrace(record: LogRecord, trace: LogTrace): void {
  record.traceId = trace.traceId;
  record.spanId = trace.spanId;
  record.flags = trace.flags;
}
