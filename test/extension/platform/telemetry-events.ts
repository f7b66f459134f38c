/**
 * Telemetry API events in Lambda's schema (2022-12-13), as Lambda sends them,
 * for the platform module's tests.
 */
export const FUNCTION_NAME = 'orders-api';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function xrayHeader(root: string, parent: string, sampled = true): string {
  return `Root=${root};Parent=${parent};Sampled=${sampled ? 1 : 0}`;
}

export function tracing(value: string, spanId?: string) {
  return { type: 'X-Amzn-Trace-Id', value, ...(spanId ? { spanId } : {}) };
}

export const initStart = (t: number, initializationType = 'on-demand', phase = 'init') => ({
  time: iso(t),
  type: 'platform.initStart',
  record: {
    initializationType,
    phase,
    runtimeVersion: 'nodejs:22.v40',
    runtimeVersionArn: 'arn:aws:lambda:eu-west-1::runtime:0123',
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
  },
});

export const initRuntimeDone = (t: number, status = 'success') => ({
  time: iso(t),
  type: 'platform.initRuntimeDone',
  record: { initializationType: 'on-demand', phase: 'init', status },
});

export const initReport = (t: number, durationMs: number) => ({
  time: iso(t),
  type: 'platform.initReport',
  record: { initializationType: 'on-demand', phase: 'init', status: 'success', metrics: { durationMs } },
});

export const start = (t: number, requestId: string, trace?: ReturnType<typeof tracing>) => ({
  time: iso(t),
  type: 'platform.start',
  record: { requestId, version: '$LATEST', ...(trace ? { tracing: trace } : {}) },
});

export const runtimeDone = (
  t: number,
  requestId: string,
  durationMs: number,
  opts: { status?: string; errorType?: string; producedBytes?: number; trace?: ReturnType<typeof tracing> } = {},
) => ({
  time: iso(t),
  type: 'platform.runtimeDone',
  record: {
    requestId,
    status: opts.status ?? 'success',
    ...(opts.errorType ? { errorType: opts.errorType } : {}),
    ...(opts.trace ? { tracing: opts.trace } : {}),
    spans: [
      { name: 'responseLatency', start: iso(t - 3), durationMs: 1.5 },
      { name: 'responseDuration', start: iso(t - 1.5), durationMs: 0.5 },
    ],
    metrics: { durationMs, producedBytes: opts.producedBytes ?? 42 },
  },
});

export const report = (
  t: number,
  requestId: string,
  metrics: { durationMs: number; billedDurationMs: number; maxMemoryUsedMB: number; initDurationMs?: number },
  opts: { status?: string; errorType?: string; trace?: ReturnType<typeof tracing> } = {},
) => ({
  time: iso(t),
  type: 'platform.report',
  record: {
    requestId,
    status: opts.status ?? 'success',
    ...(opts.errorType ? { errorType: opts.errorType } : {}),
    ...(opts.trace ? { tracing: opts.trace } : {}),
    metrics: { memorySizeMB: 1024, ...metrics },
  },
});

export const functionLog = (t: number, record: unknown) => ({ time: iso(t), type: 'function', record });
export const extensionLog = (t: number, record: unknown) => ({ time: iso(t), type: 'extension', record });
