/**
 * The global propagator from the standard OTEL_PROPAGATORS list. Lambda's own
 * services speak X-Ray, so the default adds `xray` to OpenTelemetry's default
 * `tracecontext,baggage`: an outgoing AWS SDK call carries X-Amzn-Trace-Id,
 * which SQS turns into the AWSTraceHeader of the message. An unknown name is
 * reported in one line and skipped; the rest still works.
 */
import type { TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { warnOnce } from '../log.js';
import { XRayLambdaPropagator } from './xray-lambda-propagator.js';

export const DEFAULT_PROPAGATORS = 'tracecontext,baggage,xray';

const FACTORIES: Record<string, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
  xray: () => new AWSXRayPropagator(),
  'xray-lambda': () => new XRayLambdaPropagator(),
};

/** The propagators named in `list` (comma-separated), in order; `none` means no propagation. */
export function propagatorFromList(list: string | undefined = process.env.OTEL_PROPAGATORS): TextMapPropagator {
  const names = (list?.trim() ? list : DEFAULT_PROPAGATORS)
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const propagators: TextMapPropagator[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (name === 'none' || seen.has(name)) continue;
    seen.add(name);
    const factory = FACTORIES[name];
    if (factory) propagators.push(factory());
    else
      warnOnce(
        `propagator:${name}`,
        `OTEL_PROPAGATORS: unknown propagator "${name}" is ignored (accepted: ${Object.keys(FACTORIES).join(', ')}, none).`,
      );
  }
  if (seen.has('xray') && seen.has('xray-lambda')) {
    warnOnce('propagator:xray-both', 'OTEL_PROPAGATORS: use either "xray" or "xray-lambda", not both.');
  }
  return new CompositePropagator({ propagators });
}
