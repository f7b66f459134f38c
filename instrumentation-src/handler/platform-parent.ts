/**
 * Where the invocation span sits so that it and the extension's platform
 * spans (lambda invoke, runtime, init) make one trace: the invocation span is
 * a child of the platform's invoke span, whose ids are chosen here and sent to
 * the extension with the flushed notice (./flushed-notice.ts).
 *
 * - A caller's context in the event (W3C traceparent, an X-Amzn-Trace-Id
 *   header from API Gateway, a message's attributes): the caller's trace. The
 *   platform's invoke span becomes the caller span's child; the caller's
 *   sampled flag decides, as for any remote parent.
 * - Otherwise Lambda's X-Ray header (_X_AMZN_TRACE_ID): its Root is the trace
 *   id and its Parent the invoke span's id, the ids the extension reads from
 *   the same header, so they agree even without the notice. `Sampled=1` is
 *   kept. `Sampled=0` (PassThrough, the default, or a request X-Ray sampled
 *   out) is X-Ray's decision about X-Ray, not about this trace: the SDK's
 *   sampler (OTEL_TRACES_SAMPLER) decides as for a new trace. With the opt-in
 *   `xray-lambda` propagator, X-Ray's flag is followed as that propagator
 *   means it.
 * - Neither (tracing header absent, as under the Runtime Interface Emulator):
 *   a new trace and invoke span id; the sampler decides.
 */
import {
  type Attributes,
  type Context,
  type Link,
  ROOT_CONTEXT,
  type SpanContext,
  type SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { RandomIdGenerator, type Sampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';

/** The platform invoke span as the extension is told of it. */
export interface PlatformSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's span, when the trace came with the event. */
  readonly parentSpanId?: string;
}

export interface PlacedInvocation {
  /** The parent context of the invocation span: the platform invoke span, remote. */
  readonly parent: Context;
  readonly platform: PlatformSpan;
}

/** What the sampler is asked about a new trace. */
export interface RootSpanFacts {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  readonly links: Link[];
}

const ids = new RandomIdGenerator();
const XRAY_ROOT = /Root=1-([0-9a-f]{8})-([0-9a-f]{24})(?:;|$)/i;
const XRAY_PARENT = /Parent=([0-9a-f]{16})(?:;|$)/i;
const XRAY_SAMPLED = /Sampled=([01])(?:;|$)/;

/** Lambda's X-Ray header as a span context, or undefined when absent or not one. */
export function lambdaXRayContext(header = process.env._X_AMZN_TRACE_ID): SpanContext | undefined {
  if (!header) return undefined;
  const root = XRAY_ROOT.exec(header);
  const parent = XRAY_PARENT.exec(header);
  if (!root || !parent) return undefined;
  const context: SpanContext = {
    traceId: (root[1] + root[2]).toLowerCase(),
    spanId: parent[1].toLowerCase(),
    traceFlags: XRAY_SAMPLED.exec(header)?.[1] === '1' ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
  return trace.isSpanContextValid(context) ? context : undefined;
}

export function placeInvocation(
  incoming: Context,
  facts: RootSpanFacts,
  sampler: Sampler | undefined,
  xray: SpanContext | undefined = lambdaXRayContext(),
): PlacedInvocation {
  const found = trace.getSpanContext(incoming);
  const caller = found && trace.isSpanContextValid(found) ? found : undefined;
  // The `xray-lambda` propagator hands back Lambda's own header when the event has none.
  const callerIsLambda = !!caller && !!xray && caller.traceId === xray.traceId && caller.spanId === xray.spanId;
  let platform: PlatformSpan;
  let flags: number;
  if (caller && !callerIsLambda) {
    platform = { traceId: caller.traceId, spanId: xray?.spanId ?? ids.generateSpanId(), parentSpanId: caller.spanId };
    flags = caller.traceFlags;
  } else if (xray) {
    platform = { traceId: xray.traceId, spanId: xray.spanId };
    flags =
      callerIsLambda || xray.traceFlags & TraceFlags.SAMPLED
        ? xray.traceFlags
        : rootFlags(xray.traceId, facts, sampler);
  } else {
    const traceId = ids.generateTraceId();
    platform = { traceId, spanId: ids.generateSpanId() };
    flags = rootFlags(traceId, facts, sampler);
  }
  const parent = trace.setSpanContext(incoming, {
    traceId: platform.traceId,
    spanId: platform.spanId,
    traceFlags: flags,
    traceState: caller && !callerIsLambda ? caller.traceState : undefined,
    isRemote: true,
  });
  return { parent, platform };
}

/** The sampler's decision for a new trace with this id, as the flag of the invoke span (sampled without a sampler). */
function rootFlags(traceId: string, facts: RootSpanFacts, sampler: Sampler | undefined): number {
  if (!sampler) return TraceFlags.SAMPLED;
  const { decision } = sampler.shouldSample(
    ROOT_CONTEXT,
    traceId,
    facts.name,
    facts.kind,
    facts.attributes,
    facts.links,
  );
  return decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
}
