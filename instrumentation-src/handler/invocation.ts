/**
 * The span of one invocation: started before the handler runs, with the FaaS
 * attributes of the invocation and its trigger, parented or linked to the
 * incoming trace; ended with the handler's outcome. When the extension is on
 * this host (it gets the flushed notice), the span's parent is the platform's
 * invoke span, whose ids travel with the notice (./platform-parent.ts).
 */
import { type Attributes, type Context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { takeColdStart } from './cold-start.js';
import type { LambdaContext } from './lambda-types.js';
import { type PlatformSpan, placeInvocation } from './platform-parent.js';
import { incomingTraceContext } from './trace-context.js';
import { describeTrigger, responseAttributes, type Trigger } from './triggers.js';

export const TRACER_NAME = 'observed-lambda/handler';

export interface Invocation {
  readonly span: Span;
  /** The context the handler runs in (the invocation span active). */
  readonly context: Context;
  readonly trigger: Trigger;
  /** The platform invoke span the invocation span hangs under, for the extension; absent without one. */
  readonly platform?: PlatformSpan;
}

export interface PlatformParentOptions {
  /** The SDK's sampler, asked when the invocation starts a new trace. */
  readonly sampler?: Sampler;
}

/** Begins the invocation span; with `platformParent`, under the platform's invoke span. */
export function beginInvocation(
  event: unknown,
  lambdaContext: LambdaContext | undefined,
  platformParent?: PlatformParentOptions,
): Invocation {
  const trigger = describeTrigger(event);
  const incoming = incomingTraceContext(event, trigger);
  const functionName = lambdaContext?.functionName || process.env.AWS_LAMBDA_FUNCTION_NAME;
  const name = trigger.spanName ?? functionName ?? 'lambda invocation';
  const attributes = Object.assign(invocationAttributes(lambdaContext, functionName), trigger.attributes, {
    'faas.trigger': trigger.faasTrigger,
  });
  const facts = { name, kind: trigger.spanKind, attributes, links: incoming.links };
  const placed = platformParent ? placeInvocation(incoming.parent, facts, platformParent.sampler) : undefined;
  const parent = placed?.parent ?? incoming.parent;
  const span = trace.getTracer(TRACER_NAME).startSpan(name, facts, parent);
  return { span, context: trace.setSpan(parent, span), trigger, platform: placed?.platform };
}

function invocationAttributes(lambdaContext: LambdaContext | undefined, functionName: string | undefined): Attributes {
  const attributes: Attributes = { 'faas.coldstart': takeColdStart() };
  if (functionName) attributes['faas.name'] = functionName;
  if (lambdaContext?.awsRequestId) attributes['faas.invocation_id'] = lambdaContext.awsRequestId;
  const invokedArn = lambdaContext?.invokedFunctionArn;
  if (invokedArn) {
    attributes['aws.lambda.invoked_arn'] = invokedArn;
    const version = lambdaContext?.functionVersion || process.env.AWS_LAMBDA_FUNCTION_VERSION;
    const parsed = functionOf(invokedArn, version);
    if (parsed) {
      attributes['cloud.account.id'] = parsed.accountId;
      attributes['cloud.resource_id'] = parsed.resourceId;
    }
  }
  return attributes;
}

/** The last ARN read: it is the same on every invocation through the same alias. */
let lastFunction: { arn: string; version: string | undefined; accountId: string; resourceId: string } | undefined;

function functionOf(invokedArn: string, version: string | undefined) {
  if (lastFunction?.arn === invokedArn && lastFunction.version === version) return lastFunction;
  const parts = invokedArn.split(':');
  if (parts.length < 7 || parts[2] !== 'lambda') return undefined;
  // The environment wins over an ARN of another region or function (AWS's Runtime Interface Emulator invents
  // one in us-east-1): such an ARN gives no account or resource id, so the attributes never contradict.
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  if ((region && parts[3] !== region) || (name && parts[6] !== name)) return undefined;
  // The function ARN with the version that runs, not the alias that was invoked.
  const unqualified = parts.slice(0, 7).join(':');
  lastFunction = {
    arn: invokedArn,
    version,
    accountId: parts[4],
    resourceId: version ? `${unqualified}:${version}` : unqualified,
  };
  return lastFunction;
}

/** Ends the span with the handler's outcome: an error (thrown, rejected or passed to the callback) or a result. */
export function endInvocation(invocation: Invocation, error: unknown, result: unknown): void {
  const { span, trigger } = invocation;
  if (error !== undefined && error !== null) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setAttribute('error.type', error instanceof Error ? error.name || error.constructor.name : '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  } else {
    const attributes = responseAttributes(trigger, result);
    span.setAttributes(attributes);
    const status = attributes['http.response.status_code'];
    // A server span is an error only for 5xx: a 4xx is the caller's mistake.
    if (typeof status === 'number' && status >= 500) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}
