/**
 * Context propagation through the wrapper with the real SDK: incoming traces
 * continue from API Gateway headers and SQS/SNS message attributes, and an
 * outgoing HTTP call made by the handler carries the invocation's trace.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '../../extension-src/otlp/types.js';
import { startTelemetry, wrapHandler } from '../../instrumentation-src/index.js';
import { loopbackSettled } from '../../instrumentation-src/loopback/connection.js';
import { OtlpSink } from '../support/otlp-sink.js';
import { attribute, hex, lambdaContext, lambdaEnvironment, NoticeReceiver, spanByInvocation } from './helpers.js';

const sink = new OtlpSink();
const notices = new NoticeReceiver();

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

beforeAll(async () => {
  await sink.start();
  await notices.start();
  Object.assign(process.env, lambdaEnvironment(sink.url, notices.port), {
    OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,aws-sdk',
    OTEL_PROPAGATORS: 'tracecontext,baggage,xray',
  });
  startTelemetry();
});

afterAll(async () => {
  // Answers still on their way would otherwise meet a closed sink (reported as lost exports).
  await loopbackSettled();
  await notices.stop();
  await sink.stop();
});

/** The invocation span hangs under the platform invoke span the flushed notice names, itself under `callerSpan`. */
function expectUnderPlatformSpan(
  span: { spanId?: Uint8Array; parentSpanId?: Uint8Array } | undefined,
  requestId: string,
  traceId: string,
  callerSpan: string | undefined,
) {
  const notice = notices.noticeFor(requestId);
  expect(notice?.traceId).toBe(traceId);
  expect(notice?.spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(hex(span?.parentSpanId)).toBe(notice?.spanId);
  expect(notice?.functionSpanId).toBe(hex(span?.spanId));
  expect(notice?.parentSpanId).toBe(callerSpan);
  expect(notice?.sampled).toBe(true);
}

/** Created after the SDK started: wrapping starts the SDK with the environment of that moment. */
const echo = (event: unknown, context: unknown) =>
  wrapHandler(async (_event: unknown, _context: unknown) => ({ statusCode: 200, body: 'ok' }))(event, context);

describe('incoming HTTP triggers', () => {
  it('continues the caller trace from an API Gateway REST event with a traceparent header', async () => {
    const context = lambdaContext();
    await echo(
      {
        resource: '/orders/{id}',
        path: '/orders/42',
        httpMethod: 'GET',
        headers: { Traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, 'X-Forwarded-Proto': 'https' },
        multiValueHeaders: {},
        requestContext: {
          domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
          identity: { sourceIp: '203.0.113.9' },
        },
      },
      context,
    );
    await loopbackSettled();
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(hex(span?.traceId)).toBe(CALLER_TRACE);
    // Caller span -> the platform's invoke span (its ids in the flushed notice) -> the invocation span.
    expectUnderPlatformSpan(span, context.awsRequestId, CALLER_TRACE, CALLER_SPAN);
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.name).toBe('/orders/{id}');
    expect(attribute(span?.attributes, 'faas.trigger')).toBe('http');
    expect(attribute(span?.attributes, 'http.route')).toBe('/orders/{id}');
    expect(attribute(span?.attributes, 'http.request.method')).toBe('GET');
    expect(attribute(span?.attributes, 'url.scheme')).toBe('https');
    expect(attribute(span?.attributes, 'http.response.status_code')).toBe(200);
  });

  it('continues an X-Ray trace from an HTTP API (payload 2.0) event', async () => {
    const context = lambdaContext();
    await echo(
      {
        version: '2.0',
        routeKey: 'POST /orders',
        rawPath: '/orders',
        headers: { 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
        requestContext: {
          http: { method: 'POST', path: '/orders', protocol: 'HTTP/1.1' },
          domainName: 'api.example.com',
        },
      },
      context,
    );
    await loopbackSettled();
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(hex(span?.traceId)).toBe('5759e988bd862e3fe1be46a994272793');
    expectUnderPlatformSpan(span, context.awsRequestId, '5759e988bd862e3fe1be46a994272793', '53995c3f42cd8ad8');
    expect(span?.name).toBe('/orders');
  });
});

describe('incoming messages', () => {
  it('links every message of an SQS batch to the trace that sent it', async () => {
    const context = lambdaContext();
    const message = (id: string, extra: Record<string, unknown>) => ({
      messageId: id,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders-queue',
      body: '{}',
      attributes: {},
      messageAttributes: {},
      ...extra,
    });
    await echo(
      {
        Records: [
          message('m1', {
            attributes: {
              AWSTraceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
            },
          }),
          message('m2', {
            messageAttributes: {
              traceparent: { stringValue: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, dataType: 'String' },
            },
          }),
          message('m3', {}),
        ],
      },
      context,
    );
    await loopbackSettled();
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.name).toBe('orders-queue process');
    expect(attribute(span?.attributes, 'faas.trigger')).toBe('pubsub');
    expect(attribute(span?.attributes, 'messaging.system')).toBe('aws_sqs');
    expect(attribute(span?.attributes, 'messaging.batch.message_count')).toBe(3);
    const links = (span?.links ?? []).map((l) => `${hex(l.traceId)}/${hex(l.spanId)}`);
    expect(links.sort()).toEqual(
      [`${CALLER_TRACE}/${CALLER_SPAN}`, '5759e988bd862e3fe1be46a994272793/53995c3f42cd8ad8'].sort(),
    );
    // A batch has many origins: the invocation starts its own trace, under the platform's invoke span.
    expectUnderPlatformSpan(span, context.awsRequestId, hex(span?.traceId), undefined);
    expect([CALLER_TRACE, '5759e988bd862e3fe1be46a994272793']).not.toContain(hex(span?.traceId));
  });

  it('continues the trace of an SNS message from its traceparent attribute', async () => {
    const context = lambdaContext();
    await echo(
      {
        Records: [
          {
            EventSource: 'aws:sns',
            Sns: {
              MessageId: 'n1',
              TopicArn: 'arn:aws:sns:eu-west-1:123456789012:order-events',
              MessageAttributes: { traceparent: { Type: 'String', Value: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } },
            },
          },
        ],
      },
      context,
    );
    await loopbackSettled();
    const span = spanByInvocation(sink.spans(), context.awsRequestId);
    expect(hex(span?.traceId)).toBe(CALLER_TRACE);
    expect(span?.name).toBe('order-events process');
    expect(span?.kind).toBe(SpanKind.CONSUMER);
  });
});

describe('outgoing calls', () => {
  let server: Server;
  let received: IncomingHttpHeaders | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      received = req.headers;
      req.resume();
      if (req.url?.startsWith('/workspaces')) {
        // Enough of Amazon Managed Service for Prometheus' ListWorkspaces answer for the SDK to parse.
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"workspaces":[]}');
        return;
      }
      res.end('pong');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('carries the invocation trace in traceparent and X-Amzn-Trace-Id', async () => {
    // Loaded through require, as a CommonJS handler would, so the http instrumentation sees it.
    const http = createRequire(__filename)('node:http') as typeof import('node:http');
    const port = (server.address() as AddressInfo).port;
    const handler = wrapHandler(
      (_event: unknown, _context: unknown) =>
        new Promise((resolve, reject) => {
          http
            .get(`http://127.0.0.1:${port}/ping`, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode));
            })
            .on('error', reject);
        }),
    );
    const context = lambdaContext();

    expect(await handler({}, context)).toBe(200);

    await loopbackSettled();

    const invocation = spanByInvocation(sink.spans(), context.awsRequestId);
    const traceId = hex(invocation?.traceId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(received?.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(received?.['x-amzn-trace-id']).toContain(`Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)}`);
    const client = sink.spans().find((s) => s.kind === SpanKind.CLIENT && hex(s.traceId) === traceId);
    expect(hex(client?.parentSpanId)).toBe(hex(invocation?.spanId));
  });

  it('traces an AWS SDK v3 call as a client span of the invocation and carries its trace', async () => {
    // The AWS SDK instrumentation starts when the SDK starts loading, not before.
    const load = createRequire(__filename);
    const instrumentationLoaded = () => Object.keys(load.cache).some((f) => f.includes('instrumentation-aws-sdk'));
    expect(instrumentationLoaded()).toBe(false);
    const { AmpClient, ListWorkspacesCommand } = load('@aws-sdk/client-amp') as typeof import('@aws-sdk/client-amp');
    expect(instrumentationLoaded()).toBe(true);
    const port = (server.address() as AddressInfo).port;
    const amp = new AmpClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    });
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => {
      const listed = await amp.send(new ListWorkspacesCommand({}));
      return listed.workspaces?.length;
    });
    const context = lambdaContext();

    expect(await handler({}, context)).toBe(0);

    await loopbackSettled();

    const invocation = spanByInvocation(sink.spans(), context.awsRequestId);
    const traceId = hex(invocation?.traceId);
    const call = sink
      .spans()
      .find((s) => hex(s.traceId) === traceId && attribute(s.attributes, 'rpc.method') === 'ListWorkspaces');
    expect(call?.kind).toBe(SpanKind.CLIENT);
    expect(hex(call?.parentSpanId)).toBe(hex(invocation?.spanId));
    expect(attribute(call?.attributes, 'rpc.system')).toBe('aws-api');
    expect(received?.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
    expect(received?.['x-amzn-trace-id']).toContain(`Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)}`);
  });
});
