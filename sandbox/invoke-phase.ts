/**
 * The INVOKE phase: thaw, INVOKE to the extensions and the event to the runtime, platform.runtimeDone once
 * the runtime asks for the next event, platform.report once every extension is back in /next (their time
 * counts toward the timeout), then freeze; or, after a timeout or crash, a reset. A cold start runs init first.
 */
import { randomUUID } from 'node:crypto';
import { preciseNowMs } from './clock.js';
import type { SandboxEvent } from './events-log.js';
import { initialize } from './init-phase.js';
import type { LifecycleContext } from './lifecycle-context.js';
import { sharedSampler } from './memory.js';
import type { Failure } from './process-supervisor.js';
import { type Invocation, parseJson, platformErrorType } from './runtime-api.js';
import { reset } from './shutdown-phase.js';
import {
  durationBetween,
  type InvokeStatus,
  type PhaseSpan,
  platform,
  span,
  type TelemetryEvent,
  type TracingContext,
} from './telemetry-events.js';
import { lambdaTraceHeader, telemetryTracing } from './tracing.js';

export interface InvokeOptions {
  /** Client context (mobile SDK), passed to the runtime as Lambda-Runtime-Client-Context. */
  clientContext?: Record<string, unknown> | string;
  /** The X-Ray header the runtime gets, exactly, instead of the one Lambda would make. */
  traceId?: string;
  /**
   * The caller's X-Amzn-Trace-Id, as Lambda receives it with the invoke: its Root and sampling decision
   * are kept, per the tracing mode (see tracing.ts).
   */
  incomingTraceHeader?: string;
  cognitoIdentity?: Record<string, unknown>;
}

export interface InvokeError {
  errorType: string;
  errorMessage?: string;
  trace?: string[];
  [key: string]: unknown;
}

export interface InvokeResult {
  requestId: string;
  /** `error`: the function returned an error; `failure`: the runtime or an extension crashed; `timeout`: it ran out of time. */
  status: InvokeStatus;
  /** The function's response (JSON-decoded when it is JSON), when status is success. */
  result?: unknown;
  error?: InvokeError;
  /** Invoke phase duration as platform.report gives it (includes extensions' time after the response). */
  durationMs: number;
  /**
   * From the event's delivery to the runtime until its response (or error) was received in full
   * (platform.runtimeDone's responseLatency and responseDuration spans): the time the caller waits
   * on the function. Undefined when the runtime gave no answer.
   */
  responseMs?: number;
  billedDurationMs: number;
  /** Set on a cold start: the init phase that ran for this invocation. */
  initDurationMs?: number;
  coldStart: boolean;
  maxMemoryUsedMB: number;
  /** The event log entries of this invocation (init, if it ran, through freeze or reset). */
  events: SandboxEvent[];
}

const TIMED_OUT = 'Sandbox.Timedout';

/**
 * One invocation, after init on a cold start. Resolves once the environment is frozen again, or has been
 * reset after a timeout or crash (the next invocation then starts cold).
 */
export async function runInvocation(
  ctx: LifecycleContext,
  payload: unknown,
  options: InvokeOptions,
): Promise<InvokeResult> {
  const { log, telemetry, extensionsApi, runtimeApi, processes, waiter, settings } = ctx;
  const fromSeq = log.cursor;
  if (ctx.state === 'idle' && processes.crash) await reset(ctx, 'failure');
  if (ctx.state === 'uninitialized') {
    const failure = await initialize(ctx);
    if (failure) return initFailed(failure, log.since(fromSeq));
  }
  const coldStart = ctx.pendingInitDurationMs !== undefined;
  ctx.thaw();
  ctx.state = 'invoking';

  const requestId = randomUUID();
  const startMs = preciseNowMs();
  // Whole milliseconds, as the Runtime API's Lambda-Runtime-Deadline-Ms gives it; rounded up, so that a
  // timed-out invocation lasts at least its timeout.
  const deadlineMs = Math.ceil(startMs + settings.timeoutMs);
  const traceId =
    settings.traceHeader === 'none'
      ? undefined
      : (options.traceId ?? lambdaTraceHeader(settings.tracing ?? 'PassThrough', options.incomingTraceHeader));
  const tracing = traceId === undefined ? undefined : telemetryTracing(traceId);
  processes.requestId = requestId;
  log.add('invoke.start', { requestId, data: { deadlineMs } });
  telemetry.publish(platform.start(startMs, requestId, settings.functionVersion, tracing), 'platform', requestId);
  const unwatch = sharedSampler.watch(
    () => processes.groupIds(),
    (bytes) => {
      ctx.peakRssBytes = Math.max(ctx.peakRssBytes, bytes);
    },
  );

  const inv: Invocation = {
    requestId,
    payload: Buffer.from(JSON.stringify(payload ?? null)),
    deadlineMs,
    invokedFunctionArn: settings.functionArn,
    traceId,
    clientContext: clientContextHeader(options.clientContext),
    cognitoIdentity: options.cognitoIdentity ? JSON.stringify(options.cognitoIdentity) : undefined,
  };
  extensionsApi.dispatch({
    eventType: 'INVOKE',
    deadlineMs,
    requestId,
    invokedFunctionArn: settings.functionArn,
    ...(traceId === undefined ? {} : { tracing: { type: 'X-Amzn-Trace-Id', value: traceId } }),
  });
  runtimeApi.deliver(inv);

  // The runtime answers, then asks for the next event.
  await waiter.until(() => !!inv.outcome || !!processes.crash, deadlineMs);
  if (inv.outcome) await waiter.until(() => runtimeApi.ready || !!processes.crash, deadlineMs);
  // A runtime that answered and then exited (an uncaught exception after the response, say)
  // keeps its answer; the environment is reset afterwards all the same.
  const exitedAfterAnswer = !!inv.outcome && processes.crash?.errorType === 'Runtime.ExitError';
  let { status, errorType } = runtimeStatus(inv, processes.crash, runtimeApi.ready, exitedAfterAnswer);
  telemetry.publish(runtimeDoneEvent(inv, startMs, status, errorType, tracing), 'platform', requestId);

  // Then every extension must be back in /next (their time counts against the timeout).
  const reportSpans: PhaseSpan[] = [];
  if ((status === 'success' || status === 'error') && !exitedAfterAnswer) {
    const extStart = preciseNowMs();
    const ready = await waiter.until(() => extensionsApi.allReady() || !!processes.crash, deadlineMs);
    if (processes.crash) {
      status = 'failure';
      errorType = processes.crash.errorType;
    } else if (!ready) {
      status = 'timeout';
      errorType = TIMED_OUT;
    }
    if (extensionsApi.all.length > 0) reportSpans.push(span('extensionOverhead', extStart, preciseNowMs()));
  }
  const endMs = preciseNowMs();
  ctx.sampleMemory();
  unwatch();
  const durationMs = durationBetween(startMs, endMs);
  const initDurationMs = ctx.pendingInitDurationMs;
  ctx.pendingInitDurationMs = undefined;
  const maxMemoryUsedMB = Math.ceil(ctx.peakRssBytes / (1024 * 1024));
  telemetry.publish(
    platform.report(endMs, {
      requestId,
      status,
      errorType: status === 'success' ? undefined : errorType,
      durationMs,
      memorySizeMB: settings.memorySizeMb,
      maxMemoryUsedMB,
      initDurationMs,
      spans: reportSpans,
      tracing,
    }),
    'platform',
    requestId,
  );

  // The reset that follows a crash forgets it; the result still tells it.
  const crash = processes.crash;
  if (status === 'timeout' || status === 'failure' || exitedAfterAnswer) {
    if (status === 'timeout') log.add('timeout', { requestId, data: { timeoutMs: settings.timeoutMs } });
    await reset(ctx, status === 'timeout' ? 'timeout' : 'failure');
  } else {
    ctx.state = 'idle';
    await ctx.freeze();
  }
  processes.requestId = undefined;
  log.add('invoke.done', { requestId, data: { status } });

  const result: InvokeResult = {
    requestId,
    status,
    durationMs,
    billedDurationMs: Math.max(1, Math.ceil(durationMs)),
    initDurationMs,
    coldStart,
    maxMemoryUsedMB,
    events: log.since(fromSeq),
  };
  if (inv.deliveredMs !== undefined && inv.responseEndMs !== undefined) {
    result.responseMs = durationBetween(inv.deliveredMs, inv.responseEndMs);
  }
  if (status === 'success' && inv.outcome?.kind === 'response') {
    result.result = parseJson(inv.outcome.body);
  } else if (status === 'error' && inv.outcome?.kind === 'error') {
    result.error = functionError(inv.outcome.errorType, inv.outcome.body);
  } else if (status === 'timeout') {
    result.error = timeoutError(endMs, requestId, settings.timeoutMs);
  } else if (status === 'failure') {
    result.error = { errorType: errorType ?? 'Runtime.Unknown', errorMessage: crash?.errorMessage };
  }
  return result;
}

/** platform.runtimeDone, with the response's latency and duration when the runtime sent one. */
function runtimeDoneEvent(
  inv: Invocation,
  startMs: number,
  status: InvokeStatus,
  errorType: string | undefined,
  tracing: TracingContext | undefined,
): TelemetryEvent {
  const runtimeDoneMs = preciseNowMs();
  const runtimeStartMs = inv.deliveredMs ?? startMs;
  const spans: PhaseSpan[] = [];
  if (inv.responseStartMs !== undefined && inv.responseEndMs !== undefined) {
    spans.push(span('responseLatency', runtimeStartMs, inv.responseStartMs));
    spans.push(span('responseDuration', inv.responseStartMs, inv.responseEndMs));
  }
  return platform.runtimeDone(runtimeDoneMs, {
    requestId: inv.requestId,
    status,
    errorType,
    durationMs: durationBetween(runtimeStartMs, runtimeDoneMs),
    producedBytes: inv.outcome?.kind === 'response' ? inv.outcome.body.length : 0,
    spans,
    tracing,
  });
}

/** The message Lambda gives a timed-out invocation. */
function timeoutError(endMs: number, requestId: string, timeoutMs: number): InvokeError {
  return {
    errorType: TIMED_OUT,
    errorMessage: `${new Date(endMs).toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
  };
}

/** The result of an invocation whose cold start failed in init: no request reached the function. */
function initFailed(failure: Failure, events: SandboxEvent[]): InvokeResult {
  return {
    requestId: randomUUID(),
    status: 'failure',
    error: { ...failure },
    durationMs: 0,
    billedDurationMs: 0,
    coldStart: true,
    maxMemoryUsedMB: 0,
    events,
  };
}

/** Lambda-Runtime-Client-Context: a string as given, an object as JSON. */
function clientContextHeader(clientContext: InvokeOptions['clientContext']): string | undefined {
  if (clientContext === undefined) return undefined;
  return typeof clientContext === 'string' ? clientContext : JSON.stringify(clientContext);
}

/** The invocation's status once the runtime is done with it (or has crashed, or ran out of time). */
function runtimeStatus(
  inv: Invocation,
  crash: Failure | undefined,
  runtimeReady: boolean,
  exitedAfterAnswer: boolean,
): { status: InvokeStatus; errorType?: string } {
  if (crash && !exitedAfterAnswer) return { status: 'failure', errorType: crash.errorType };
  if (!inv.outcome || (!runtimeReady && !exitedAfterAnswer)) return { status: 'timeout', errorType: TIMED_OUT };
  if (inv.outcome.kind === 'error') return { status: 'error', errorType: platformErrorType(inv.outcome.errorType) };
  return { status: 'success' };
}

/** The function's error as its runtime posted it: the JSON body's fields, or the body as the message. */
function functionError(errorType: string, body: Buffer): InvokeError {
  const parsed = parseJson(body);
  return parsed && typeof parsed === 'object'
    ? { errorType, ...(parsed as Record<string, unknown>) }
    : { errorType, errorMessage: String(parsed) };
}
