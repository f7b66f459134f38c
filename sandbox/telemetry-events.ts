/**
 * Telemetry API events with Lambda's schema (2022-12-13): `{ time, type, record }`,
 * times in ISO 8601 with milliseconds, durations in fractional milliseconds.
 */

export type TelemetryCategory = 'platform' | 'function' | 'extension';

export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

export interface TracingContext {
  spanId?: string;
  type: 'X-Amzn-Trace-Id';
  value: string;
}

export interface PhaseSpan {
  name: string;
  start: string;
  durationMs: number;
}

export type InvokeStatus = 'success' | 'error' | 'failure' | 'timeout';

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds with microsecond precision, as Lambda reports them. */
export function durationBetween(startMs: number, endMs: number): number {
  return Math.round(Math.max(0, endMs - startMs) * 1000) / 1000;
}

export function span(name: string, startMs: number, endMs: number): PhaseSpan {
  return { name, start: isoTime(startMs), durationMs: durationBetween(startMs, endMs) };
}

function event(timeMs: number, type: string, record: unknown): TelemetryEvent {
  return { time: isoTime(timeMs), type, record };
}

export interface InitStartFields {
  functionName: string;
  functionVersion: string;
  functionArn: string;
  instanceId: string;
  instanceMaxMemory: number;
  runtimeVersion: string;
  runtimeVersionArn: string;
}

/** What platform.runtimeDone and platform.report say of one invocation, besides their metrics. */
interface InvocationFields {
  requestId: string;
  status: InvokeStatus;
  errorType?: string;
  spans: PhaseSpan[];
  tracing: TracingContext | undefined;
}

/** The record both invocation events share, in Lambda's field order; only the metrics differ. */
function invocationRecord(r: InvocationFields, metrics: Record<string, number>): object {
  return {
    requestId: r.requestId,
    status: r.status,
    ...(r.errorType ? { errorType: r.errorType } : {}),
    metrics,
    ...(r.tracing ? { tracing: r.tracing } : {}),
    spans: r.spans,
  };
}

export const platform = {
  initStart(timeMs: number, f: InitStartFields): TelemetryEvent {
    return event(timeMs, 'platform.initStart', {
      initializationType: 'on-demand',
      phase: 'init',
      runtimeVersion: f.runtimeVersion,
      runtimeVersionArn: f.runtimeVersionArn,
      functionName: f.functionName,
      functionVersion: f.functionVersion,
      instanceId: f.instanceId,
      instanceMaxMemory: f.instanceMaxMemory,
    });
  },

  initRuntimeDone(timeMs: number, status: 'success' | 'error' | 'failure', errorType?: string): TelemetryEvent {
    return event(timeMs, 'platform.initRuntimeDone', {
      initializationType: 'on-demand',
      phase: 'init',
      status,
      ...(errorType ? { errorType } : {}),
    });
  },

  initReport(
    timeMs: number,
    durationMs: number,
    status: 'success' | 'error' | 'failure' | 'timeout',
    errorType?: string,
  ): TelemetryEvent {
    return event(timeMs, 'platform.initReport', {
      initializationType: 'on-demand',
      phase: 'init',
      status,
      ...(errorType ? { errorType } : {}),
      metrics: { durationMs },
    });
  },

  extension(timeMs: number, name: string, events: string[], errorType?: string): TelemetryEvent {
    return event(timeMs, 'platform.extension', {
      name,
      state: errorType ? 'Failed' : 'Ready',
      events,
      ...(errorType ? { errorType } : {}),
    });
  },

  telemetrySubscription(timeMs: number, name: string, types: TelemetryCategory[]): TelemetryEvent {
    return event(timeMs, 'platform.telemetrySubscription', { name, state: 'Subscribed', types });
  },

  start(timeMs: number, requestId: string, version: string, tracing: TracingContext | undefined): TelemetryEvent {
    return event(timeMs, 'platform.start', { requestId, version, ...(tracing ? { tracing } : {}) });
  },

  runtimeDone(timeMs: number, r: InvocationFields & { durationMs: number; producedBytes: number }): TelemetryEvent {
    return event(
      timeMs,
      'platform.runtimeDone',
      invocationRecord(r, { durationMs: r.durationMs, producedBytes: r.producedBytes }),
    );
  },

  report(
    timeMs: number,
    r: InvocationFields & {
      durationMs: number;
      memorySizeMB: number;
      maxMemoryUsedMB: number;
      initDurationMs?: number;
    },
  ): TelemetryEvent {
    return event(
      timeMs,
      'platform.report',
      invocationRecord(r, {
        durationMs: r.durationMs,
        billedDurationMs: Math.max(1, Math.ceil(r.durationMs)),
        memorySizeMB: r.memorySizeMB,
        maxMemoryUsedMB: r.maxMemoryUsedMB,
        ...(r.initDurationMs !== undefined ? { initDurationMs: r.initDurationMs } : {}),
      }),
    );
  },

  logsDropped(timeMs: number, droppedRecords: number, droppedBytes: number, reason: string): TelemetryEvent {
    return event(timeMs, 'platform.logsDropped', { reason, droppedRecords, droppedBytes });
  },
};

/** A `function` or `extension` log event; the record is the line, or an object for JSON log lines. */
export function logEvent(timeMs: number, category: 'function' | 'extension', record: string | object): TelemetryEvent {
  return event(timeMs, category, record);
}
