/**
 * What started an invocation, read from the shape of the event: the FaaS
 * trigger, the span kind and name, and the trigger's attributes (OpenTelemetry
 * FaaS, AWS Lambda, HTTP server and messaging conventions). HTTP triggers give
 * SERVER spans; queues, topics, event buses and data sources CONSUMER spans.
 */
import { type Attributes, SpanKind } from '@opentelemetry/api';
import { asArray, asObject, asString, type Json } from './lambda-types.js';

export type EventSource =
  | 'api-gateway-rest'
  | 'api-gateway-http'
  | 'alb'
  | 'sqs'
  | 'sns'
  | 'eventbridge'
  | 's3'
  | 'dynamodb'
  | 'kinesis'
  | 'other';

export interface Trigger {
  readonly source: EventSource;
  readonly faasTrigger: 'http' | 'pubsub' | 'datasource' | 'timer' | 'other';
  readonly spanKind: SpanKind;
  /** The span name the conventions ask for; undefined means the function name. */
  readonly spanName: string | undefined;
  readonly attributes: Attributes;
}

export function describeTrigger(event: unknown): Trigger {
  const e = asObject(event);
  if (!e) return other();
  const requestContext = asObject(e.requestContext);
  if (requestContext) {
    if (e.version === '2.0' && asObject(requestContext.http)) return httpV2(e, requestContext);
    if (asObject(requestContext.elb) && asString(e.httpMethod)) return alb(e);
    if (asString(e.httpMethod)) return restApi(e, requestContext);
  }
  const records = asArray(e.Records);
  const first = asObject(records[0]);
  if (first) {
    const source = asString(first.eventSource) ?? asString(first.EventSource);
    if (source === 'aws:sqs') return sqs(records);
    if (source === 'aws:sns') return sns(records);
    if (source === 'aws:s3') return s3(records);
    if (source === 'aws:dynamodb') return dynamodb(records);
    if (source === 'aws:kinesis') return kinesis(records);
  }
  if (asString(e['detail-type']) && asString(e.source) && 'detail' in e) return eventBridge(e);
  return other();
}

function other(): Trigger {
  return { source: 'other', faasTrigger: 'other', spanKind: SpanKind.SERVER, spanName: undefined, attributes: {} };
}

/** Header names lower-cased; multi-value headers contribute their first value where no single value exists. */
export function lowerCaseHeaders(event: Json): Record<string, string> {
  const headers: Record<string, string> = {};
  const multi = asObject(event.multiValueHeaders);
  if (multi) {
    for (const [name, values] of Object.entries(multi)) {
      const value = asString(asArray(values)[0]);
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
  }
  const single = asObject(event.headers);
  if (single) {
    for (const [name, value] of Object.entries(single)) {
      if (typeof value === 'string') headers[name.toLowerCase()] = value;
    }
  }
  return headers;
}

function httpAttributes(
  method: string | undefined,
  path: string | undefined,
  route: string | undefined,
  headers: Record<string, string>,
  extra: Record<string, string | undefined>,
): Attributes {
  return {
    ...withoutUndefined({
      'http.request.method': method,
      'url.path': path,
      'url.scheme': headers['x-forwarded-proto'],
      'http.route': route,
      'server.address': headers.host,
      'user_agent.original': headers['user-agent'],
    }),
    ...withoutUndefined(extra),
  };
}

function restApi(event: Json, requestContext: Json): Trigger {
  const headers = lowerCaseHeaders(event);
  const route = asString(event.resource);
  const identity = asObject(requestContext.identity);
  return {
    source: 'api-gateway-rest',
    faasTrigger: 'http',
    spanKind: SpanKind.SERVER,
    spanName: route,
    attributes: httpAttributes(asString(event.httpMethod), asString(event.path), route, headers, {
      'server.address': asString(requestContext.domainName) ?? headers.host,
      'client.address': asString(identity?.sourceIp),
      'network.protocol.version': protocolVersion(requestContext.protocol),
    }),
  };
}

function httpV2(event: Json, requestContext: Json): Trigger {
  const headers = lowerCaseHeaders(event);
  const http = asObject(requestContext.http) ?? {};
  // "GET /pets/{id}" on an HTTP API; "$default" (no route) on a function URL or a default route.
  const routeKey = asString(event.routeKey) ?? asString(requestContext.routeKey);
  const route = routeKey && routeKey !== '$default' ? routeKey.slice(routeKey.indexOf(' ') + 1) : undefined;
  return {
    source: 'api-gateway-http',
    faasTrigger: 'http',
    spanKind: SpanKind.SERVER,
    spanName: route,
    attributes: httpAttributes(asString(http.method), asString(event.rawPath) ?? asString(http.path), route, headers, {
      'server.address': asString(requestContext.domainName) ?? headers.host,
      'client.address': asString(http.sourceIp),
      'user_agent.original': asString(http.userAgent) ?? headers['user-agent'],
      'network.protocol.version': protocolVersion(http.protocol),
    }),
  };
}

function alb(event: Json): Trigger {
  const headers = lowerCaseHeaders(event);
  return {
    source: 'alb',
    faasTrigger: 'http',
    spanKind: SpanKind.SERVER,
    spanName: undefined,
    attributes: httpAttributes(asString(event.httpMethod), asString(event.path), undefined, headers, {}),
  };
}

/** The resource name at the end of an ARN ("arn:aws:sqs:eu-west-1:123456789012:orders" -> "orders"). */
function arnResourceName(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const resource = arn.split(':').slice(5).join(':');
  return resource || undefined;
}

/** The only value every record agrees on, or undefined when they differ. */
function common(values: (string | undefined)[]): string | undefined {
  const distinct = new Set(values);
  return distinct.size === 1 ? values[0] : undefined;
}

function sqs(records: unknown[]): Trigger {
  const queue = common(records.map((r) => arnResourceName(asString(asObject(r)?.eventSourceARN))));
  const single = records.length === 1 ? asObject(records[0]) : undefined;
  return {
    source: 'sqs',
    faasTrigger: 'pubsub',
    spanKind: SpanKind.CONSUMER,
    spanName: `${queue ?? 'multiple_sources'} process`,
    attributes: withoutUndefined({
      'messaging.system': 'aws_sqs',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': queue,
      'messaging.batch.message_count': records.length,
      'messaging.message.id': asString(single?.messageId),
    }),
  };
}

function sns(records: unknown[]): Trigger {
  const messages = records.map((r) => asObject(asObject(r)?.Sns));
  const topic = common(messages.map((m) => arnResourceName(asString(m?.TopicArn))));
  return {
    source: 'sns',
    faasTrigger: 'pubsub',
    spanKind: SpanKind.CONSUMER,
    spanName: `${topic ?? 'multiple_sources'} process`,
    attributes: withoutUndefined({
      'messaging.system': 'aws_sns',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': topic,
      'messaging.message.id': records.length === 1 ? asString(messages[0]?.MessageId) : undefined,
      'messaging.batch.message_count': records.length > 1 ? records.length : undefined,
    }),
  };
}

function eventBridge(event: Json): Trigger {
  const scheduled = event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';
  return {
    source: 'eventbridge',
    faasTrigger: scheduled ? 'timer' : 'pubsub',
    spanKind: SpanKind.CONSUMER,
    spanName: undefined,
    attributes: withoutUndefined({
      'cloudevents.event_source': asString(event.source),
      'cloudevents.event_type': asString(event['detail-type']),
      'cloudevents.event_id': asString(event.id),
      'faas.time': scheduled ? asString(event.time) : undefined,
    }),
  };
}

const S3_OPERATIONS: Record<string, string> = { ObjectCreated: 'insert', ObjectRemoved: 'delete' };
const DYNAMODB_OPERATIONS: Record<string, string> = { INSERT: 'insert', MODIFY: 'edit', REMOVE: 'delete' };

function s3(records: unknown[]): Trigger {
  const entries = records.map((r) => asObject(r) ?? {});
  const bucket = common(entries.map((r) => asString(asObject(asObject(r.s3)?.bucket)?.name)));
  const single = entries.length === 1 ? entries[0] : undefined;
  return {
    source: 's3',
    faasTrigger: 'datasource',
    spanKind: SpanKind.CONSUMER,
    spanName: undefined,
    attributes: withoutUndefined({
      'faas.document.collection': bucket,
      'faas.document.name': single ? asString(asObject(asObject(single.s3)?.object)?.key) : undefined,
      'faas.document.operation': single ? S3_OPERATIONS[asString(single.eventName)?.split(':')[0] ?? ''] : undefined,
      'faas.document.time': single ? asString(single.eventTime) : undefined,
    }),
  };
}

function dynamodb(records: unknown[]): Trigger {
  const entries = records.map((r) => asObject(r) ?? {});
  // arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>
  const table = common(entries.map((r) => arnResourceName(asString(r.eventSourceARN))?.split('/')[1]));
  const single = entries.length === 1 ? entries[0] : undefined;
  return {
    source: 'dynamodb',
    faasTrigger: 'datasource',
    spanKind: SpanKind.CONSUMER,
    spanName: undefined,
    attributes: withoutUndefined({
      'faas.document.collection': table,
      'faas.document.operation': single ? DYNAMODB_OPERATIONS[asString(single.eventName) ?? ''] : undefined,
    }),
  };
}

function kinesis(records: unknown[]): Trigger {
  // arn:aws:kinesis:<region>:<account>:stream/<name>
  const stream = common(
    records.map((r) => arnResourceName(asString(asObject(r)?.eventSourceARN))?.replace(/^stream\//, '')),
  );
  return {
    source: 'kinesis',
    faasTrigger: 'pubsub',
    spanKind: SpanKind.CONSUMER,
    spanName: stream ? `${stream} process` : undefined,
    attributes: withoutUndefined({
      'messaging.operation.type': 'process',
      'messaging.destination.name': stream,
      'messaging.batch.message_count': records.length,
    }),
  };
}

function protocolVersion(protocol: unknown): string | undefined {
  const value = asString(protocol);
  return value?.startsWith('HTTP/') ? value.slice(5) : undefined;
}

function withoutUndefined(record: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}

/** Attributes of the result, for HTTP triggers: the response status (a proxy result without one means 200). */
export function responseAttributes(trigger: Trigger, result: unknown): Attributes {
  if (trigger.faasTrigger !== 'http') return {};
  const statusCode = asObject(result)?.statusCode;
  if (typeof statusCode === 'number' && Number.isInteger(statusCode))
    return { 'http.response.status_code': statusCode };
  if (trigger.source === 'api-gateway-http') return { 'http.response.status_code': 200 };
  return {};
}
