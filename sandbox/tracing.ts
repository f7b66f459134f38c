/**
 * The X-Ray trace header Lambda gives each request, by the function's tracing
 * mode (TracingConfig), and what the Telemetry API says of it.
 *
 * - The header the caller sent (X-Amzn-Trace-Id on the invoke) keeps its Root
 *   and, when it has one, its sampling decision. Without a caller's decision,
 *   `Active` samples the request (Lambda samples by X-Ray's rules, by default
 *   the first request each second and 5 % of the others; the sandbox samples
 *   every one) and `PassThrough` does not (`Sampled=0`).
 * - `Parent` is the id of the function's segment (AWS::Lambda::Function),
 *   new for every request: the runtime gets it in Lambda-Runtime-Trace-Id
 *   (then _X_AMZN_TRACE_ID), extensions in the INVOKE event's `tracing`.
 * - A sampled request is recorded by Lambda, and its Telemetry API events
 *   name the invocation's segment in `tracing.spanId`; an unsampled one
 *   carries the header alone.
 * - `traceHeader: 'none'` (an environment option) sends no header at all, as
 *   AWS's Runtime Interface Emulator with aws-lambda-ric does: no
 *   _X_AMZN_TRACE_ID, no INVOKE `tracing`, no Telemetry API `tracing`.
 */
import { randomBytes } from 'node:crypto';
import type { TracingContext } from './telemetry-events.js';

export type TracingMode = 'Active' | 'PassThrough';

const ROOT = /(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})\s*(?:;|$)/i;
const SAMPLED = /(?:^|;)\s*Sampled=([01])\s*(?:;|$)/;

function newRoot(): string {
  return `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

/** The header the runtime gets for a request, from the caller's header (if any) and the tracing mode. */
export function lambdaTraceHeader(mode: TracingMode, incoming?: string): string {
  const root = (incoming && ROOT.exec(incoming)?.[1]) || newRoot();
  const callerDecision = incoming ? SAMPLED.exec(incoming)?.[1] : undefined;
  const sampled = callerDecision ?? (mode === 'Active' ? '1' : '0');
  return `Root=${root};Parent=${randomBytes(8).toString('hex')};Sampled=${sampled}`;
}

/** The Telemetry API's `tracing` for a request with this header. */
export function telemetryTracing(header: string): TracingContext {
  return SAMPLED.exec(header)?.[1] === '1'
    ? { spanId: randomBytes(8).toString('hex'), type: 'X-Amzn-Trace-Id', value: header }
    : { type: 'X-Amzn-Trace-Id', value: header };
}
