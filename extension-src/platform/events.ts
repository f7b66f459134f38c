/**
 * Lambda Telemetry API event shapes (schema 2022-12-13, plus the fields Lambda
 * added since: status "timeout", errorType, restore events), and tolerant
 * readers: events come from outside, so every field is checked, never trusted.
 */
import Long from 'long';

export interface TraceContext {
  /** The X-Ray header value: `Root=1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy;Parent=zzzzzzzzzzzzzzzz;Sampled=1`. */
  value: string;
  type?: string;
  spanId?: string;
}

export interface PhaseSpan {
  name: string;
  startMs: number;
  durationMs: number;
}

export type Status = 'success' | 'failure' | 'error' | 'timeout' | string;

export interface StartRecord {
  timeMs: number;
  version?: string;
  tracing?: TraceContext;
}

export interface RuntimeDoneRecord {
  timeMs: number;
  status: Status;
  errorType?: string;
  durationMs?: number;
  producedBytes?: number;
  spans: PhaseSpan[];
  tracing?: TraceContext;
}

export interface ReportMetrics {
  durationMs?: number;
  billedDurationMs?: number;
  initDurationMs?: number;
  restoreDurationMs?: number;
  maxMemoryUsedMB?: number;
  memorySizeMB?: number;
}

export interface ReportRecord {
  timeMs: number;
  status: Status;
  errorType?: string;
  metrics: ReportMetrics;
  spans: PhaseSpan[];
  tracing?: TraceContext;
}

export interface InitFields {
  timeMs: number;
  initializationType?: string;
  phase?: string;
  runtimeVersion?: string;
  runtimeVersionArn?: string;
  status?: Status;
  errorType?: string;
  durationMs?: number;
  spans: PhaseSpan[];
}

/** A Telemetry API event reduced to what the platform module uses. */
export type PlatformEvent =
  | { kind: 'start'; requestId: string; record: StartRecord }
  | { kind: 'runtimeDone'; requestId: string; record: RuntimeDoneRecord }
  | { kind: 'report'; requestId: string; record: ReportRecord }
  | { kind: 'initStart' | 'initRuntimeDone' | 'initReport'; record: InitFields }
  | { kind: 'restoreStart' | 'restoreRuntimeDone' | 'restoreReport'; record: InitFields }
  | { kind: 'logsDropped'; timeMs: number; droppedRecords: number; droppedBytes: number; reason: string }
  | { kind: 'log'; source: 'function' | 'extension'; timeMs: number; record: unknown }
  | { kind: 'ignored'; type: string };

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * Milliseconds since the epoch for a Telemetry API time. Lambda writes ISO
 * 8601 with milliseconds; one documented example separates the milliseconds
 * with a colon ("12:01:23:521Z"), which is accepted too.
 */
export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  let t = Date.parse(v);
  if (Number.isNaN(t)) t = Date.parse(v.replace(/(T\d\d:\d\d:\d\d):(\d+)/, '$1.$2'));
  return Number.isNaN(t) ? undefined : t;
}

function tracing(v: unknown): TraceContext | undefined {
  if (!isObject(v)) return undefined;
  const value = str(v.value);
  if (!value) return undefined;
  return { value, type: str(v.type), spanId: str(v.spanId) };
}

function phaseSpans(v: unknown): PhaseSpan[] {
  if (!Array.isArray(v)) return [];
  const out: PhaseSpan[] = [];
  for (const s of v) {
    if (!isObject(s)) continue;
    const name = str(s.name);
    const startMs = parseTime(s.start);
    const durationMs = num(s.durationMs);
    if (name && startMs !== undefined && durationMs !== undefined) out.push({ name, startMs, durationMs });
  }
  return out;
}

function initFields(timeMs: number, r: Obj): InitFields {
  const metrics = isObject(r.metrics) ? r.metrics : {};
  return {
    timeMs,
    initializationType: str(r.initializationType),
    phase: str(r.phase),
    runtimeVersion: str(r.runtimeVersion),
    runtimeVersionArn: str(r.runtimeVersionArn),
    status: str(r.status),
    errorType: str(r.errorType),
    durationMs: num(metrics.durationMs),
    spans: phaseSpans(r.spans),
  };
}

/** Reads one raw Telemetry API event; undefined when it is not an event at all. */
export function readEvent(raw: unknown): PlatformEvent | undefined {
  if (!isObject(raw)) return undefined;
  const type = str(raw.type);
  const timeMs = parseTime(raw.time);
  if (!type || timeMs === undefined) return undefined;
  if (type === 'function' || type === 'extension') return { kind: 'log', source: type, timeMs, record: raw.record };
  const r = isObject(raw.record) ? raw.record : undefined;
  if (!r) return { kind: 'ignored', type };
  const requestId = str(r.requestId);
  switch (type) {
    case 'platform.start':
      if (!requestId) return undefined;
      return { kind: 'start', requestId, record: { timeMs, version: str(r.version), tracing: tracing(r.tracing) } };
    case 'platform.runtimeDone': {
      if (!requestId) return undefined;
      const metrics = isObject(r.metrics) ? r.metrics : {};
      return {
        kind: 'runtimeDone',
        requestId,
        record: {
          timeMs,
          status: str(r.status) ?? 'success',
          errorType: str(r.errorType),
          durationMs: num(metrics.durationMs),
          producedBytes: num(metrics.producedBytes),
          spans: phaseSpans(r.spans),
          tracing: tracing(r.tracing),
        },
      };
    }
    case 'platform.report': {
      if (!requestId) return undefined;
      const m = isObject(r.metrics) ? r.metrics : {};
      return {
        kind: 'report',
        requestId,
        record: {
          timeMs,
          status: str(r.status) ?? 'success',
          errorType: str(r.errorType),
          metrics: {
            durationMs: num(m.durationMs),
            billedDurationMs: num(m.billedDurationMs),
            initDurationMs: num(m.initDurationMs),
            restoreDurationMs: num(m.restoreDurationMs),
            maxMemoryUsedMB: num(m.maxMemoryUsedMB),
            memorySizeMB: num(m.memorySizeMB),
          },
          spans: phaseSpans(r.spans),
          tracing: tracing(r.tracing),
        },
      };
    }
    case 'platform.initStart':
    case 'platform.initRuntimeDone':
    case 'platform.initReport':
    case 'platform.restoreStart':
    case 'platform.restoreRuntimeDone':
    case 'platform.restoreReport':
      return {
        kind: type.slice('platform.'.length) as 'initStart',
        record: initFields(timeMs, r),
      };
    case 'platform.logsDropped':
      return {
        kind: 'logsDropped',
        timeMs,
        droppedRecords: num(r.droppedRecords) ?? 0,
        droppedBytes: num(r.droppedBytes) ?? 0,
        reason: str(r.reason) ?? '',
      };
    default:
      return { kind: 'ignored', type };
  }
}

const NANOS_PER_MS = Long.fromNumber(1_000_000);

/** Exact unix nanoseconds for a (fractional) millisecond time. */
export function msToNanos(ms: number): Long {
  const whole = Math.floor(ms);
  const sub = Math.round((ms - whole) * 1_000_000);
  // Exact in doubles for any time before the year 2255: the low word times 10^6 stays below 2^53, the high word
  // times 10^6 (plus the carry) below 2^31. Long's 64-bit multiply costs ~25x more on LLRT's interpreter.
  if (whole >= 0 && whole < 9e12) {
    const low = (whole % 2 ** 32) * 1_000_000 + sub;
    const high = Math.floor(whole / 2 ** 32) * 1_000_000 + Math.floor(low / 2 ** 32);
    return Long.fromBits((low % 2 ** 32) >>> 0, high >>> 0, false);
  }
  return Long.fromNumber(whole).multiply(NANOS_PER_MS).add(sub);
}
