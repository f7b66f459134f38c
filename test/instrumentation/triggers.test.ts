/**
 * What the invocation span says about its trigger, for the event shapes
 * Lambda delivers (payloads as AWS documents them), and the xray-lambda
 * propagator's choice between the event's context and _X_AMZN_TRACE_ID.
 */
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { describeTrigger, responseAttributes } from '../../instrumentation-src/handler/triggers.js';
import { XRayLambdaPropagator } from '../../instrumentation-src/sdk/xray-lambda-propagator.js';

describe('trigger of an event', () => {
  it('reads a function URL request (payload 2.0 without a route) as an HTTP server span', () => {
    const trigger = describeTrigger({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/hello',
      headers: { 'user-agent': 'curl/8.5', 'x-forwarded-proto': 'https', host: 'abc.lambda-url.eu-west-1.on.aws' },
      requestContext: {
        domainName: 'abc.lambda-url.eu-west-1.on.aws',
        http: { method: 'POST', path: '/hello', protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'curl/8.5' },
      },
    });
    expect(trigger).toMatchObject({ faasTrigger: 'http', spanKind: SpanKind.SERVER, spanName: undefined });
    expect(trigger.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/hello',
      'url.scheme': 'https',
      'client.address': '198.51.100.7',
      'user_agent.original': 'curl/8.5',
      'network.protocol.version': '1.1',
      'server.address': 'abc.lambda-url.eu-west-1.on.aws',
    });
    expect(trigger.attributes['http.route']).toBeUndefined();
    expect(responseAttributes(trigger, 'plain body')).toEqual({ 'http.response.status_code': 200 });
  });

  it('reads an Application Load Balancer request with multi-value headers', () => {
    const trigger = describeTrigger({
      requestContext: {
        elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/t/1' },
      },
      httpMethod: 'GET',
      path: '/health',
      multiValueHeaders: { 'User-Agent': ['ELB-HealthChecker/2.0'] },
    });
    expect(trigger).toMatchObject({ source: 'alb', faasTrigger: 'http', spanKind: SpanKind.SERVER });
    expect(trigger.attributes['user_agent.original']).toBe('ELB-HealthChecker/2.0');
    expect(responseAttributes(trigger, { statusCode: 503 })).toEqual({ 'http.response.status_code': 503 });
  });

  it('names an SQS batch from several queues "multiple_sources process"', () => {
    const trigger = describeTrigger({
      Records: [
        { eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:a', messageId: '1' },
        { eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:b', messageId: '2' },
      ],
    });
    expect(trigger.spanName).toBe('multiple_sources process');
    expect(trigger.attributes['messaging.destination.name']).toBeUndefined();
    expect(trigger.attributes['messaging.message.id']).toBeUndefined();
  });

  it('reads an S3 notification as a datasource trigger with the document attributes', () => {
    const trigger = describeTrigger({
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-11-23T10:00:00.000Z',
          s3: { bucket: { name: 'invoices' }, object: { key: '2026/11/a.pdf' } },
        },
      ],
    });
    expect(trigger).toMatchObject({ faasTrigger: 'datasource', spanKind: SpanKind.CONSUMER });
    expect(trigger.attributes).toEqual({
      'faas.document.collection': 'invoices',
      'faas.document.name': '2026/11/a.pdf',
      'faas.document.operation': 'insert',
      'faas.document.time': '2026-11-23T10:00:00.000Z',
    });
  });

  it('reads a DynamoDB stream record with its table and operation', () => {
    const trigger = describeTrigger({
      Records: [
        {
          eventSource: 'aws:dynamodb',
          eventName: 'MODIFY',
          eventSourceARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-11-23T00:00:00.000',
        },
      ],
    });
    expect(trigger.attributes).toEqual({ 'faas.document.collection': 'Orders', 'faas.document.operation': 'edit' });
  });

  it('reads an EventBridge event as pubsub, and a schedule as a timer', () => {
    const custom = describeTrigger({
      version: '0',
      id: 'e-1',
      source: 'shop.orders',
      'detail-type': 'OrderPlaced',
      detail: { orderId: 7 },
    });
    expect(custom).toMatchObject({ faasTrigger: 'pubsub', spanKind: SpanKind.CONSUMER });
    expect(custom.attributes).toMatchObject({
      'cloudevents.event_source': 'shop.orders',
      'cloudevents.event_type': 'OrderPlaced',
      'cloudevents.event_id': 'e-1',
    });
    const schedule = describeTrigger({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      time: '2026-11-23T10:00:00Z',
      detail: {},
    });
    expect(schedule.faasTrigger).toBe('timer');
    expect(schedule.attributes['faas.time']).toBe('2026-11-23T10:00:00Z');
  });

  it('treats anything else, including non-objects, as a direct invocation', () => {
    for (const event of [{ hello: 'world' }, 'text', 42, null, [1, 2]]) {
      expect(describeTrigger(event)).toMatchObject({
        source: 'other',
        faasTrigger: 'other',
        spanKind: SpanKind.SERVER,
      });
    }
  });
});

describe('xray-lambda propagator', () => {
  const ENV_HEADER = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
  afterEach(() => {
    delete process.env._X_AMZN_TRACE_ID;
  });

  it('takes the invocation trace from _X_AMZN_TRACE_ID when the event carries none', () => {
    process.env._X_AMZN_TRACE_ID = ENV_HEADER;
    const context = new XRayLambdaPropagator().extract(ROOT_CONTEXT, {}, defaultTextMapGetter);
    expect(trace.getSpanContext(context)).toMatchObject({
      traceId: '5759e988bd862e3fe1be46a994272793',
      spanId: '53995c3f42cd8ad8',
    });
  });

  it('keeps a parent another propagator already found', () => {
    process.env._X_AMZN_TRACE_ID = ENV_HEADER;
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    const context = new XRayLambdaPropagator().extract(parent, {}, defaultTextMapGetter);
    expect(trace.getSpanContext(context)?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('finds nothing without the variable or a header', () => {
    const context = new XRayLambdaPropagator().extract(ROOT_CONTEXT, {}, defaultTextMapGetter);
    expect(trace.getSpanContext(context)).toBeUndefined();
  });
});
