/**
 * wrapHandler: the Lambda handler as the runtime sees it, with an invocation
 * span around the user's handler and the telemetry flushed before the result
 * is handed back (to the extension on this host: written to the loopback
 * socket, the extension's answers not waited for; see flush.ts). Works for
 * async handlers (a returned promise), callback-style handlers (the third
 * argument) and response-streaming handlers; keeps the handler's arity (the
 * runtime tells the first two apart by it) and the streaming marks, and never
 * changes the handler's result: every telemetry step is guarded and time-bounded. An
 * invocation about to time out has its telemetry ended and flushed first.
 */
import { context as otelContext, TraceFlags } from '@opentelemetry/api';
import { describeError, warnOnce } from '../log.js';
import { currentTelemetry, startTelemetry, type Telemetry } from '../sdk/start.js';
import { beforeDeadline, InvocationTimeout } from './deadline.js';
import { flushBudgetMs, flushTelemetry } from './flush.js';
import { type NoticeTrace, sendFlushedNotice, sendStartedNotice } from './flushed-notice.js';
import { beginInvocation, endInvocation, type Invocation } from './invocation.js';
import type { LambdaCallback, LambdaContext, LambdaHandler } from './lambda-types.js';

const WRAPPED = Symbol.for('observed-lambda.wrapped-handler');
/** The environment's first invocation sends the started notice (see flushed-notice.ts). */
let startedNoticeSent = false;
const NOTICE_TIMEOUT_MS = 250;
/**
 * What `awslambda.streamifyResponse` sets on a response-streaming handler: Lambda's runtime then
 * calls it as (event, responseStream, context). The wrapper carries both over and keeps that order.
 */
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const STREAMING_HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

type Wrapped<H> = H & { [WRAPPED]?: true };
type Marked = { [STREAMING]?: unknown; [STREAMING_HIGH_WATER_MARK]?: unknown };

/**
 * Returns the handler wrapped with an invocation span and an end-of-invocation flush. Starts the SDK
 * with default options if nothing started it. Wrapping twice returns the first wrapper; a value that
 * is not a function is returned unchanged (the runtime then reports it as it would).
 */
export function wrapHandler<H extends LambdaHandler>(handler: H): H {
  if (typeof handler !== 'function' || (handler as Wrapped<H>)[WRAPPED]) return handler;
  const telemetry = currentTelemetry() ?? startTelemetry();

  /** One invocation: `call` runs the handler (with the wrapped callback, for callback handlers). */
  function run(
    event: unknown,
    lambdaContext: LambdaContext,
    callback: LambdaCallback | undefined,
    call: (wrappedCallback: LambdaCallback) => unknown,
  ) {
    // Under the platform's invoke span only when the extension will hear of it (the flushed notice).
    const platformParent = telemetry.config.noticeUrl ? { sampler: telemetry.sampler } : undefined;
    const invocation = guard('begin', () => beginInvocation(event, lambdaContext, platformParent));
    if (!startedNoticeSent && invocation?.platform && lambdaContext?.awsRequestId) {
      startedNoticeSent = true;
      const { noticeUrl } = telemetry.config;
      const fields = noticeTrace(invocation);
      if (noticeUrl && fields) guard('started', () => sendStartedNotice(noticeUrl, lambdaContext.awsRequestId, fields));
    }
    let finished: Promise<void> | undefined;
    const finish = (error: unknown, result: unknown): Promise<void> => {
      cancelDeadline();
      finished ??= completeInvocation(telemetry, invocation, lambdaContext, error, result);
      return finished;
    };
    const cancelDeadline =
      guard('deadline', () =>
        beforeDeadline(lambdaContext, (margin) => void finish(new InvocationTimeout(margin), undefined)),
      ) ?? (() => {});
    const wrappedCallback: LambdaCallback = (error, result) => {
      void finish(error, result).then(() => callback?.(error, result));
    };

    let returned: unknown;
    try {
      const callHandler = () => call(wrappedCallback);
      returned = invocation ? otelContext.with(invocation.context, callHandler) : callHandler();
    } catch (error) {
      return finish(error, undefined).then(() => {
        throw error;
      });
    }
    if (!isThenable(returned)) return returned;
    return Promise.resolve(returned).then(
      (result) => finish(undefined, result).then(() => result),
      (error) =>
        finish(error ?? new Error('handler rejected'), undefined).then(() => {
          throw error;
        }),
    );
  }

  const marks = handler as Marked;
  let wrapped: LambdaHandler;
  if (marks[STREAMING] === 'response') {
    // Response streaming: (event, responseStream, context), no callback.
    wrapped = function observedStreamingHandler(
      this: unknown,
      event: unknown,
      stream: unknown,
      lambdaContext: unknown,
    ) {
      const streaming = handler as unknown as (event: unknown, stream: unknown, context: unknown) => unknown;
      return run(event, lambdaContext as LambdaContext, undefined, () =>
        streaming.call(this, event, stream, lambdaContext),
      );
    } as unknown as LambdaHandler;
    (wrapped as Marked)[STREAMING] = marks[STREAMING];
    if (marks[STREAMING_HIGH_WATER_MARK] !== undefined) {
      (wrapped as Marked)[STREAMING_HIGH_WATER_MARK] = marks[STREAMING_HIGH_WATER_MARK];
    }
  } else if (handler.length >= 3) {
    // Same arity as the handler: a callback handler keeps its third parameter, an async one does not.
    wrapped = function observedHandler(
      this: unknown,
      event: unknown,
      lambdaContext: LambdaContext,
      callback: LambdaCallback,
    ) {
      return run(event, lambdaContext, callback, (wrappedCallback) =>
        handler.call(this, event, lambdaContext, wrappedCallback),
      );
    };
  } else {
    wrapped = function observedHandler(this: unknown, event: unknown, lambdaContext: LambdaContext) {
      // biome-ignore lint/complexity/noArguments: the runtime still passes a callback to two-parameter handlers.
      const callback = arguments[2] as LambdaCallback | undefined;
      return run(event, lambdaContext, callback, (wrappedCallback) =>
        handler.call(this, event, lambdaContext, wrappedCallback),
      );
    };
  }
  Object.defineProperty(wrapped, 'name', { value: handler.name || 'handler' });
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped as H;
}

async function completeInvocation(
  telemetry: Telemetry,
  invocation: Invocation | undefined,
  lambdaContext: LambdaContext | undefined,
  error: unknown,
  result: unknown,
): Promise<void> {
  try {
    if (invocation) guard('end', () => endInvocation(invocation, error, result));
    const budget = flushBudgetMs(telemetry.config.flushTimeoutMs, lambdaContext);
    const { noticeUrl } = telemetry.config;
    const requestId = lambdaContext?.awsRequestId;
    // Queued behind the exports on their connection and written with them; its answer is not waited for.
    const notice =
      noticeUrl && requestId
        ? () =>
            sendFlushedNotice(
              noticeUrl,
              requestId,
              Math.min(NOTICE_TIMEOUT_MS, budget),
              undefined,
              invocation && noticeTrace(invocation),
            )
        : undefined;
    const outcome = await flushTelemetry(telemetry, budget, notice);
    if (outcome === 'timed-out') {
      warnOnce(
        'flush-timeout',
        `flushing telemetry took longer than ${Math.floor(budget)} ms; it continues after the response.`,
      );
    }
  } catch (failure) {
    warnOnce('complete', `ending the invocation's telemetry failed: ${describeError(failure)}`);
  }
}

function noticeTrace(invocation: Invocation): NoticeTrace | undefined {
  const { platform } = invocation;
  if (!platform) return undefined;
  const own = invocation.span.spanContext();
  return {
    ...platform,
    functionSpanId: own.spanId,
    sampled: (own.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
  };
}

function guard<T>(step: string, action: () => T): T | undefined {
  try {
    return action();
  } catch (failure) {
    warnOnce(`wrap:${step}`, `telemetry step "${step}" failed; the handler runs on: ${describeError(failure)}`);
    return undefined;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
