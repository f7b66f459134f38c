/**
 * Where an invocation's trace comes from. HTTP triggers carry the caller's
 * context in headers (traceparent, X-Amzn-Trace-Id): it becomes the parent.
 * SNS and EventBridge carry one message: its context becomes the parent. An
 * SQS batch carries one context per message: each becomes a link, as the AWS
 * Lambda conventions ask (the AWSTraceHeader system attribute is read with
 * the X-Ray propagator whatever OTEL_PROPAGATORS says, because that is its
 * format; message attributes go through the configured propagators).
 * Extraction always runs through the global propagator, so `xray-lambda`
 * can supply _X_AMZN_TRACE_ID when the event has nothing.
 */
import {
  type Context,
  defaultTextMapGetter,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { asArray, asObject, asString, type Json } from './lambda-types.js';
import { lowerCaseHeaders, type Trigger } from './triggers.js';

export interface IncomingTraceContext {
  /** The parent context of the invocation span (ROOT_CONTEXT when there is none). */
  readonly parent: Context;
  readonly links: Link[];
}

const xray = new AWSXRayPropagator();

export function incomingTraceContext(event: unknown, trigger: Trigger): IncomingTraceContext {
  const e = asObject(event) ?? {};
  switch (trigger.source) {
    case 'api-gateway-rest':
    case 'api-gateway-http':
    case 'alb':
      return { parent: extract(lowerCaseHeaders(e)), links: [] };
    case 'sqs':
      return { parent: extract({}), links: sqsLinks(asArray(e.Records)) };
    case 'sns': {
      const carriers = asArray(e.Records).map((r) => snsCarrier(asObject(asObject(r)?.Sns)));
      if (carriers.length === 1) return { parent: extract(carriers[0]), links: [] };
      return { parent: extract({}), links: linksFrom(carriers.map((c) => spanContextOf(extract(c)))) };
    }
    case 'eventbridge':
      return { parent: extract(stringFields(asObject(e.detail))), links: [] };
    default:
      return { parent: extract({}), links: [] };
  }
}

function extract(carrier: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
}

function spanContextOf(context: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

function linksFrom(contexts: (SpanContext | undefined)[]): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const context of contexts) {
    if (!context) continue;
    const key = `${context.traceId}-${context.spanId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push({ context });
  }
  return links;
}

function sqsLinks(records: unknown[]): Link[] {
  const contexts: (SpanContext | undefined)[] = [];
  for (const record of records) {
    const r = asObject(record);
    if (!r) continue;
    const awsTraceHeader = asString(asObject(r.attributes)?.AWSTraceHeader);
    if (awsTraceHeader) {
      contexts.push(
        spanContextOf(xray.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': awsTraceHeader }, defaultTextMapGetter)),
      );
    }
    contexts.push(spanContextOf(extract(sqsMessageAttributesCarrier(asObject(r.messageAttributes)))));
  }
  return linksFrom(contexts);
}

/** SQS message attributes as seen by Lambda: { name: { stringValue, dataType } }. */
function sqsMessageAttributesCarrier(attributes: Json | undefined): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(attributes ?? {})) {
    const value = asString(asObject(attribute)?.stringValue);
    if (value !== undefined) carrier[name.toLowerCase()] = value;
  }
  return carrier;
}

/** SNS message attributes as seen by Lambda: { name: { Type, Value } }. */
function snsCarrier(message: Json | undefined): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(asObject(message?.MessageAttributes) ?? {})) {
    const value = asString(asObject(attribute)?.Value);
    if (value !== undefined) carrier[name.toLowerCase()] = value;
  }
  return carrier;
}

function stringFields(object: Json | undefined): Record<string, string> {
  const carrier: Record<string, string> = {};
  for (const [name, value] of Object.entries(object ?? {})) {
    if (typeof value === 'string') carrier[name.toLowerCase()] = value;
  }
  return carrier;
}
