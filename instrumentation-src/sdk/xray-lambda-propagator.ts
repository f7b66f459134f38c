/**
 * The `xray-lambda` propagator of the OpenTelemetry AWS Lambda conventions:
 * X-Ray extraction from the carrier, then, unless the context already holds a
 * span (a W3C parent, say), the span context Lambda put in _X_AMZN_TRACE_ID for
 * this invocation (X-Ray active tracing). Opt-in, because that variable is set
 * on every invocation, sampled or not, and would otherwise take over every trace.
 */
import {
  type Context,
  defaultTextMapGetter,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';

const XRAY_HEADER = 'x-amzn-trace-id';

export class XRayLambdaPropagator implements TextMapPropagator {
  private readonly xray = new AWSXRayPropagator();

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.xray.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const fromCarrier = this.xray.extract(context, carrier, getter);
    if (trace.getSpanContext(context) !== undefined) return fromCarrier;
    const fromEnvironment = process.env._X_AMZN_TRACE_ID;
    if (!fromEnvironment) return fromCarrier;
    return this.xray.extract(fromCarrier, { [XRAY_HEADER]: fromEnvironment }, defaultTextMapGetter);
  }

  fields(): string[] {
    return this.xray.fields();
  }
}
