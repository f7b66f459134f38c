/**
 * wrapHandler with the real OpenTelemetry SDK exporting over OTLP/HTTP to a
 * local sink: the invocation span, the flush before the result is returned,
 * the flushed notice, async and callback handlers, errors. The exports and the
 * notice are written to the loopback sockets before the result comes back;
 * the tests wait for the answers (loopbackSettled) before looking at the sink.
 */
import { metrics } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, StatusCode } from '../../extension-src/otlp/types.js';
import { startTelemetry, wrapHandler } from '../../instrumentation-src/index.js';
import { loopbackSettled } from '../../instrumentation-src/loopback/connection.js';
import { OtlpSink } from '../support/otlp-sink.js';
import {
  attribute,
  FUNCTION_ARN,
  lambdaContext,
  lambdaEnvironment,
  NoticeReceiver,
  spanByInvocation,
} from './helpers.js';

const sink = new OtlpSink();
const notices = new NoticeReceiver();

beforeAll(async () => {
  await sink.start();
  await notices.start();
  Object.assign(process.env, lambdaEnvironment(sink.url, notices.port), { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'none' });
  startTelemetry();
});

afterAll(async () => {
  // Answers still on their way would otherwise meet a closed sink (reported as lost exports).
  await loopbackSettled();
  await notices.stop();
  await sink.stop();
});

describe('invocation span attributes', () => {
  it("take no account or resource id from an ARN of another region (RIE's invented us-east-1 ARN)", async () => {
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => 'ok');
    const context = {
      ...lambdaContext(),
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:012345678912:function:orders',
    };
    await handler({}, context);
    await loopbackSettled();
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(attribute(span?.attributes, 'aws.lambda.invoked_arn')).toBe(context.invokedFunctionArn);
    expect(attribute(span?.attributes, 'cloud.account.id')).toBeUndefined();
    expect(attribute(span?.attributes, 'cloud.resource_id')).toBeUndefined();
  });
});

describe('async handler', () => {
  it('returns the result after the span, the metric, the log record and the notice have left', async () => {
    const counter = metrics.getMeter('orders').createCounter('orders.placed');
    const logger = logs.getLogger('orders');
    const handler = wrapHandler(async (event: { n: number }, _context: unknown) => {
      counter.add(event.n);
      logger.emit({ body: `placed ${event.n}`, severityText: 'INFO' });
      return { ok: true, n: event.n };
    });
    const context = lambdaContext();

    const result = await handler({ n: 3 }, context);
    await loopbackSettled();

    expect(result).toEqual({ ok: true, n: 3 });
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(span?.name).toBe('orders');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(attribute(span?.attributes, 'faas.trigger')).toBe('other');
    expect(attribute(span?.attributes, 'faas.name')).toBe('orders');
    expect(attribute(span?.attributes, 'cloud.account.id')).toBe('123456789012');
    expect(attribute(span?.attributes, 'cloud.resource_id')).toBe(`${FUNCTION_ARN}:$LATEST`);
    expect(attribute(span?.attributes, 'aws.lambda.invoked_arn')).toBe(`${FUNCTION_ARN}:live`);
    expect(sink.metrics().some((m) => m.name === 'orders.placed')).toBe(true);
    const record = sink.logRecords().find((r) => r.body?.stringValue === 'placed 3');
    // The log record carries the invocation's trace.
    expect(Buffer.from(record?.traceId ?? []).toString('hex')).toBe(Buffer.from(span!.traceId!).toString('hex'));
    expect(notices.requestIds).toContain(context.awsRequestId);
  });

  it('marks only the first invocation of the process as a cold start', async () => {
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => 'ok');
    const second = lambdaContext();
    await handler({}, second);
    await loopbackSettled();
    const spans = sink.spans().filter((s) => attribute(s.attributes, 'faas.coldstart') !== undefined);
    expect(spans.filter((s) => attribute(s.attributes, 'faas.coldstart') === true)).toHaveLength(1);
    expect(attribute(spanByInvocation(sink.spans(), second.awsRequestId)?.attributes, 'faas.coldstart')).toBe(false);
  });

  it('rethrows the handler error unchanged and records it on the span', async () => {
    const failure = new TypeError('no such order');
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => {
      throw failure;
    });
    const context = lambdaContext();

    await expect(handler({}, context)).rejects.toBe(failure);
    await loopbackSettled();

    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(span?.status?.code).toBe(StatusCode.ERROR);
    expect(span?.status?.message).toBe('no such order');
    expect(attribute(span?.attributes, 'error.type')).toBe('TypeError');
    expect(span?.events?.some((e) => e.name === 'exception')).toBe(true);
    expect(notices.requestIds).toContain(context.awsRequestId);
  });

  it('turns a synchronous throw into the same error and still flushes', async () => {
    const failure = new Error('sync');
    const handler = wrapHandler((() => {
      throw failure;
    }) as (event: unknown, context: unknown) => Promise<void>);
    const context = lambdaContext();
    await expect(handler({}, context)).rejects.toBe(failure);
    await loopbackSettled();
    expect(spanByInvocation(sink.spans(), context.awsRequestId)?.status?.code).toBe(StatusCode.ERROR);
  });

  it('keeps the arity of a two-parameter handler and wraps only once', () => {
    const original = async (_event: unknown, _context: unknown) => 1;
    const wrapped = wrapHandler(original);
    expect(wrapped.length).toBe(2);
    expect(wrapHandler(wrapped)).toBe(wrapped);
  });
});

describe('an invocation about to time out', () => {
  it('has its span ended as timed out and flushed while the handler still runs', async () => {
    const context = lambdaContext(1_000);
    let sentBeforeHandlerEnded = false;
    const handler = wrapHandler(
      (_event: unknown, _context: unknown) =>
        new Promise((resolve) =>
          setTimeout(() => {
            sentBeforeHandlerEnded = spanByInvocation(sink.spans(), context.awsRequestId) !== undefined;
            resolve('late but fine');
          }, 1_500),
        ),
    );

    // Past its deadline the runtime would be stopped; here the handler may still answer, unchanged.
    expect(await handler({}, context)).toBe('late but fine');
    await loopbackSettled();

    expect(sentBeforeHandlerEnded).toBe(true);
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(span?.status?.code).toBe(StatusCode.ERROR);
    expect(attribute(span?.attributes, 'error.type')).toBe('TimeoutError');
    expect(notices.requestIds).toContain(context.awsRequestId);
  });
});

describe('callback handler', () => {
  it('calls the callback with the result once the telemetry has been flushed', async () => {
    const handler = wrapHandler(
      (event: { n: number }, _context: unknown, callback: (e: unknown, r?: unknown) => void) => {
        setTimeout(() => callback(null, event.n * 2), 5);
      },
    );
    expect(handler.length).toBe(3);
    const context = lambdaContext();

    const seen = await new Promise<{ error: unknown; result: unknown }>((resolve) => {
      handler({ n: 21 }, context, (error: unknown, result: unknown) => resolve({ error, result }));
    });
    // Written before the callback was called; their answers come after.
    await loopbackSettled();

    expect(seen).toEqual({ error: null, result: 42 });
    expect(spanByInvocation(sink.spans(), context.awsRequestId)).toBeDefined();
    expect(notices.requestIds).toContain(context.awsRequestId);
  });

  it('passes a callback error through and marks the span', async () => {
    const handler = wrapHandler((_event: unknown, _context: unknown, callback: (e: unknown) => void) => {
      callback('declined');
    });
    const context = lambdaContext();
    const error = await new Promise((resolve) => handler({}, context, resolve));
    await loopbackSettled();
    expect(error).toBe('declined');
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(span?.status?.code).toBe(StatusCode.ERROR);
    expect(attribute(span?.attributes, 'error.type')).toBe('_OTHER');
  });
});

describe('metrics at the end of an invocation', () => {
  it('are exported after invocations that record a measurement and skipped after those that record none', async () => {
    const counter = metrics.getMeter('orders').createCounter('orders.checked');
    const handler = wrapHandler(async (event: { record: boolean }, _context: unknown) => {
      if (event.record) counter.add(1);
      return 'checked';
    });
    const checked = () =>
      sink
        .metrics()
        .filter((m) => m.name === 'orders.checked')
        .map((m) => Number(m.sum?.dataPoints?.[0]?.asDouble));

    await handler({ record: true }, lambdaContext());
    await loopbackSettled();
    const exports = sink.requests('metrics').length;
    expect(checked()).toEqual([1]);

    const quiet = lambdaContext();
    expect(await handler({ record: false }, quiet)).toBe('checked');
    await loopbackSettled();
    expect(sink.requests('metrics').length).toBe(exports);
    // Nothing to flush still counts as flushed: the extension hears about the invocation.
    expect(notices.requestIds).toContain(quiet.awsRequestId);

    await handler({ record: true }, lambdaContext());
    await loopbackSettled();
    expect(checked()).toEqual([1, 2]);
  });

  it('are collected after every invocation once an observable instrument exists', async () => {
    let reads = 0;
    metrics
      .getMeter('orders')
      .createObservableGauge('orders.backlog')
      .addCallback((result) => result.observe(++reads));
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => 'quiet');
    await handler({}, lambdaContext());
    await handler({}, lambdaContext());
    expect(reads).toBe(2);
  });
});

describe('response-streaming handler', () => {
  const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
  const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

  it('keeps the streaming marks and the (event, responseStream, context) order, and traces the invocation', async () => {
    const written: string[] = [];
    const responseStream = { write: (chunk: string) => written.push(chunk), end: () => written.push('<end>') };
    // As awslambda.streamifyResponse(handler, { highWaterMark: 1024 }) leaves it.
    const streaming = Object.assign(
      async (event: { items: string[] }, stream: typeof responseStream, context: { awsRequestId: string }) => {
        for (const item of event.items) stream.write(item);
        stream.write(context.awsRequestId);
        stream.end();
      },
      { [STREAMING]: 'response', [HIGH_WATER_MARK]: 1024 },
    );
    const handler = wrapHandler(streaming as never) as unknown as typeof streaming;
    const context = lambdaContext();

    expect(handler).not.toBe(streaming);
    expect(handler[STREAMING]).toBe('response');
    expect(handler[HIGH_WATER_MARK]).toBe(1024);
    await handler({ items: ['a', 'b'] }, responseStream, context);
    await loopbackSettled();

    expect(written).toEqual(['a', 'b', context.awsRequestId, '<end>']);
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(notices.requestIds).toContain(context.awsRequestId);
  });
});
