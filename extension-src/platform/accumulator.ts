/**
 * Gathers the Telemetry API events of each invocation (keyed by request id)
 * and of each initialization into complete records, whatever order and
 * batching Lambda delivers them in.
 *
 * What Lambda does that this has to survive:
 * - One invocation's events are spread over several batches: `platform.start`
 *   and `platform.runtimeDone` arrive before the extension calls /next, while
 *   `platform.report` only comes after, so usually in the batch delivered
 *   during the next invocation (or at SHUTDOWN).
 * - A batch may be delivered again (a listener that answered slowly or not
 *   2xx), so the same event can arrive twice; and a late batch can carry
 *   events older than those already seen, e.g. a runtimeDone arriving after
 *   the next INVOKE, or a report before its runtimeDone.
 * - On a timeout or a crash, runtimeDone may never come; after a SHUTDOWN no
 *   report comes at all.
 *
 * So: every record keeps the first copy of each event kind and ignores later
 * copies; a record is complete when start, runtimeDone and report are all
 * there; a record whose report has arrived but which still misses events is
 * completed anyway after a grace period (late events would be lost, but its
 * numbers are not held back forever); any record older than the maximum age,
 * or beyond the bound on open records, is completed with what it has. The ids
 * of completed records are remembered (bounded) so a copy arriving after
 * completion is dropped instead of starting a new, partial record.
 */

import type { FunctionTrace } from '../otlp/trace-context.js';
import type { InitFields, ReportRecord, RuntimeDoneRecord, StartRecord, TraceContext } from './events.js';

/** What the Extensions API INVOKE event says about a request. */
export interface InvokeInfo {
  requestId: string;
  invokedFunctionArn?: string;
  deadlineMs?: number;
  /** The X-Ray header the runtime receives for this request (Lambda-Runtime-Trace-Id, _X_AMZN_TRACE_ID). */
  tracing?: TraceContext;
}

export interface InvocationRecord {
  requestId: string;
  start?: StartRecord;
  runtimeDone?: RuntimeDoneRecord;
  report?: ReportRecord;
  invoke?: InvokeInfo;
  /** Where the function's wrapper put the invocation in its trace (its flushed notice). */
  functionTrace?: FunctionTrace;
  /** Ids made up for the invocation where no header gives them, kept so its spans and log lines agree. */
  madeUpIds?: { traceId: Uint8Array; spanId: Uint8Array; runtimeSpanId: Uint8Array };
  /** Order in which this environment ran the request (1 = first), when known. */
  sequence?: number;
  firstSeenMs: number;
  reportSeenMs?: number;
}

export interface InitRecord {
  kind: 'init' | 'restore';
  start?: InitFields;
  runtimeDone?: InitFields;
  report?: InitFields;
  firstSeenMs: number;
}

export interface AccumulatorOptions {
  /** How long a record with its report waits for missing events. */
  graceMs?: number;
  /** Records older than this are completed as they are (Lambda's longest timeout is 900 s). */
  maxAgeMs?: number;
  /** Bound on open records; the oldest are completed beyond it. */
  maxOpen?: number;
  /** How many completed ids are remembered to drop late copies. */
  rememberCompleted?: number;
}

export interface AccumulatorStats {
  open: number;
  duplicates: number;
  late: number;
  forced: number;
}

type InvocationPart = 'start' | 'runtimeDone' | 'report';

/** Invocations still open, and how many of them miss each event. */
export interface MissingEvents {
  invocations: number;
  start: number;
  runtimeDone: number;
  report: number;
}

/** A bounded set that forgets its oldest entries. */
class RecentSet {
  private readonly items = new Set<string>();
  constructor(private readonly limit: number) {}
  add(key: string): void {
    this.items.add(key);
    if (this.items.size > this.limit) {
      const oldest = this.items.values().next().value;
      if (oldest !== undefined) this.items.delete(oldest);
    }
  }
  has(key: string): boolean {
    return this.items.has(key);
  }
}

export class TelemetryAccumulator {
  private readonly open = new Map<string, InvocationRecord>();
  private readonly completed: RecentSet;
  private readonly seenInitEvents: RecentSet;
  private readonly graceMs: number;
  private readonly maxAgeMs: number;
  private readonly maxOpen: number;
  private readonly ready: InvocationRecord[] = [];
  private readonly readyInits: InitRecord[] = [];
  private currentInit: InitRecord | undefined;
  private nextSequence = 1;
  private readonly sequenceById = new Map<string, number>();
  readonly stats: AccumulatorStats = { open: 0, duplicates: 0, late: 0, forced: 0 };

  constructor(options: AccumulatorOptions = {}) {
    this.graceMs = options.graceMs ?? 2_000;
    this.maxAgeMs = options.maxAgeMs ?? 960_000;
    this.maxOpen = options.maxOpen ?? 1_000;
    this.completed = new RecentSet(options.rememberCompleted ?? 4_096);
    this.seenInitEvents = new RecentSet(64);
  }

  /** Notes an INVOKE from the Extensions API: its order is authoritative for "which request came first". */
  noteInvoke(info: InvokeInfo, nowMs: number): void {
    this.sequenceFor(info.requestId);
    const record = this.recordFor(info.requestId, nowMs);
    if (record && !record.invoke) record.invoke = info;
  }

  /** Notes the function's trace for a request (its flushed notice); false when the request is already complete. */
  noteFunctionTrace(requestId: string, trace: FunctionTrace, nowMs: number): boolean {
    const record = this.recordFor(requestId, nowMs);
    if (!record) return false;
    record.functionTrace = trace;
    return true;
  }

  /** The open record of a request, if any. */
  openRecord(requestId: string): InvocationRecord | undefined {
    return this.open.get(requestId);
  }

  addInvocationEvent(
    part: InvocationPart,
    requestId: string,
    value: StartRecord | RuntimeDoneRecord | ReportRecord,
    nowMs: number,
  ): void {
    if (part === 'start') this.sequenceFor(requestId);
    const record = this.recordFor(requestId, nowMs);
    if (!record) return;
    if (record[part]) {
      this.stats.duplicates++;
      return;
    }
    if (part === 'start') record.start = value as StartRecord;
    else if (part === 'runtimeDone') record.runtimeDone = value as RuntimeDoneRecord;
    else {
      record.report = value as ReportRecord;
      record.reportSeenMs = nowMs;
    }
    if (record.start && record.runtimeDone && record.report) this.complete(record);
  }

  addInitEvent(
    kind: 'init' | 'restore',
    part: 'start' | 'runtimeDone' | 'report',
    fields: InitFields,
    nowMs: number,
  ): void {
    const signature = `${kind}.${part}@${fields.timeMs}`;
    if (this.seenInitEvents.has(signature)) {
      this.stats.duplicates++;
      return;
    }
    this.seenInitEvents.add(signature);
    let current = this.currentInit;
    // A new start, or events of another kind, close the current record first.
    if (current && (current.kind !== kind || (part === 'start' && current.start))) {
      this.readyInits.push(current);
      current = undefined;
    }
    if (!current) {
      current = { kind, firstSeenMs: nowMs };
      this.currentInit = current;
    }
    if (current[part]) {
      this.stats.duplicates++;
      return;
    }
    current[part] = fields;
    if (part === 'report') {
      this.readyInits.push(current);
      this.currentInit = undefined;
    }
  }

  /**
   * Takes the records that are complete, or due: past their grace period or
   * maximum age. With `all`, takes every open record (SHUTDOWN).
   */
  take(nowMs: number, all = false): { invocations: InvocationRecord[]; inits: InitRecord[] } {
    const forced: InvocationRecord[] = [];
    for (const record of this.open.values()) {
      const graceOver = record.reportSeenMs !== undefined && nowMs - record.reportSeenMs >= this.graceMs;
      const tooOld = nowMs - record.firstSeenMs >= this.maxAgeMs;
      if (all || graceOver || tooOld) forced.push(record);
    }
    for (const record of forced) {
      this.stats.forced++;
      this.complete(record);
    }
    if (all && this.currentInit) {
      this.readyInits.push(this.currentInit);
      this.currentInit = undefined;
    }
    const invocations = this.ready.splice(0).sort((a, b) => (a.sequence ?? Infinity) - (b.sequence ?? Infinity));
    const inits = this.readyInits.splice(0);
    this.stats.open = this.open.size;
    return { invocations, inits };
  }

  /**
   * Whether an open invocation still misses its report: one whose events began, or, with `invoked`, also one
   * known only from its INVOKE (its start and runtimeDone may still be in the Telemetry API's buffer).
   */
  hasIncomplete(invoked = false): boolean {
    for (const record of this.open.values()) {
      if (!record.report && (record.start || record.runtimeDone || (invoked && record.invoke))) return true;
    }
    return false;
  }

  /** Of the open invocations (as hasIncomplete counts them): how many there are, and how many miss each event. */
  missingEvents(invoked = false): MissingEvents {
    const missing: MissingEvents = { invocations: 0, start: 0, runtimeDone: 0, report: 0 };
    for (const record of this.open.values()) {
      if (!record.start && !record.runtimeDone && !record.report && !(invoked && record.invoke)) continue;
      missing.invocations++;
      if (!record.start) missing.start++;
      if (!record.runtimeDone) missing.runtimeDone++;
      if (!record.report) missing.report++;
    }
    return missing;
  }

  /** Request ids with a record still open. */
  openRequestIds(): string[] {
    return [...this.open.keys()];
  }

  private sequenceFor(requestId: string): number {
    let seq = this.sequenceById.get(requestId);
    if (seq === undefined) {
      seq = this.nextSequence++;
      this.sequenceById.set(requestId, seq);
      // Keep the map bounded: only the first request's number matters after a while.
      if (this.sequenceById.size > this.maxOpen * 2) {
        for (const key of this.sequenceById.keys()) {
          if (this.sequenceById.size <= this.maxOpen) break;
          if (this.sequenceById.get(key) !== 1) this.sequenceById.delete(key);
        }
      }
    }
    return seq;
  }

  private recordFor(requestId: string, nowMs: number): InvocationRecord | undefined {
    if (this.completed.has(requestId)) {
      this.stats.late++;
      return undefined;
    }
    let record = this.open.get(requestId);
    if (!record) {
      record = { requestId, firstSeenMs: nowMs, sequence: this.sequenceById.get(requestId) };
      this.open.set(requestId, record);
      if (this.open.size > this.maxOpen) {
        const oldest = this.open.values().next().value;
        if (oldest) {
          this.stats.forced++;
          this.complete(oldest);
        }
      }
    }
    if (record.sequence === undefined) record.sequence = this.sequenceById.get(requestId);
    return record;
  }

  private complete(record: InvocationRecord): void {
    if (!this.open.delete(record.requestId)) return;
    this.completed.add(record.requestId);
    this.ready.push(record);
  }
}
