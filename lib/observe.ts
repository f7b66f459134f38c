import { Annotations, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { ENV, EXEC_WRAPPER_PATH } from './environment.js';
import { otherRuntimeReason, unsupportedRuntimeReason } from './runtimes.js';
import { applyTelemetry, type TelemetryOptions, validateTelemetryOptions } from './telemetry-options.js';

const excluded = new WeakSet<IConstruct>();
const observed = new WeakSet<IConstruct>();

/** Marks a function as observed so that the other forms leave it alone. */
export function markObserved(fn: IConstruct): void {
  observed.add(fn);
}

function isExcluded(node: IConstruct): boolean {
  return node.node.scopes.some((scope) => excluded.has(scope));
}

/** A variable of the function's environment as given so far (lambda.Function keeps it private). */
function environmentValue(fn: lambda.Function, name: string): string | undefined {
  const env = (fn as unknown as { environment?: { entries?: () => Iterable<[string, { value?: string }]> } })
    .environment;
  if (typeof env?.entries !== 'function') return undefined;
  for (const [key, entry] of env.entries()) if (key === name) return entry?.value;
  return undefined;
}

/**
 * Observes every Lambda function in the scope it is applied to (an Aspect),
 * adding the extension layer, the destinations' environment and their IAM.
 * Node.js functions also get `AWS_LAMBDA_EXEC_WRAPPER` (the layer's wrapper
 * starts OpenTelemetry in the function's process and flushes it before each
 * response). Python, Java, .NET, Ruby and `provided.al2023` functions get the
 * layer that brings its own engine, and the environment their own
 * OpenTelemetry SDK reads: `OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318`,
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`, and for Python and Java
 * `OTEL_INSTRUMENTATION_AWS_LAMBDA_FLUSH_TIMEOUT=5000` (the OpenTelemetry
 * aws-lambda instrumentations' flush at the end of each invocation); values
 * the function already sets are kept. A function it cannot observe (container
 * images, retired runtimes) gets a warning annotation;
 * `ObserveFunctions.exclude()` opts a function, or every function under a
 * construct, out.
 *
 * @example
 * Aspects.of(app).add(new ObserveFunctions({ destinations: [TelemetryDestination.prometheus(workspace)] }));
 */
export class ObserveFunctions implements IAspect {
  /** Leaves `scope`, and every function under it, unobserved. */
  public static exclude(scope: IConstruct): void {
    excluded.add(scope);
  }

  /**
   * Observes one existing function, as the Aspect would. Returns false, with a
   * warning annotation on the function, when it cannot be observed.
   */
  public static observe(fn: lambda.Function, options: TelemetryOptions): boolean {
    validateTelemetryOptions('observe', options, fn.node.path);
    return observeFunction(fn, options);
  }

  constructor(private readonly options: TelemetryOptions) {
    validateTelemetryOptions('ObserveFunctions', options);
  }

  public visit(node: IConstruct): void {
    if (node instanceof lambda.Function) observeFunction(node, this.options);
  }
}

/** Observes one existing function (the function form of {@link ObserveFunctions}). */
export function observe(fn: lambda.Function, options: TelemetryOptions): boolean {
  return ObserveFunctions.observe(fn, options);
}

/**
 * What the function's own OpenTelemetry SDK reads, for runtimes without our exec wrapper: the extension's
 * OTLP/HTTP receiver (every SDK's OTLP exporter reads these; .NET's would otherwise speak gRPC), and the
 * flush timeout of the OpenTelemetry aws-lambda instrumentations of Python and the Java agent, which flush
 * at the end of every invocation: a flush to loopback that takes longer is stuck, and the response matters more.
 */
const SDK_ENVIRONMENT: Record<string, string> = {
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
};
const AWS_LAMBDA_INSTRUMENTATION_FLUSH_TIMEOUT = { OTEL_INSTRUMENTATION_AWS_LAMBDA_FLUSH_TIMEOUT: '5000' };

function isNode(fn: lambda.Function): boolean {
  return fn.runtime !== lambda.Runtime.FROM_IMAGE && fn.runtime.family === lambda.RuntimeFamily.NODEJS;
}

function observeFunction(fn: lambda.Function, options: TelemetryOptions): boolean {
  if (observed.has(fn) || isExcluded(fn)) return false;
  return isNode(fn) ? observeNodeFunction(fn, options) : observeOtherFunction(fn, options);
}

/** A function of another runtime: the layer with its own engine, and its SDK pointed at the extension. */
function observeOtherFunction(fn: lambda.Function, options: TelemetryOptions): boolean {
  const reason = otherRuntimeReason(fn.runtime === lambda.Runtime.FROM_IMAGE ? undefined : fn.runtime);
  if (reason !== undefined) {
    warnUnobservable(fn, reason);
    return false;
  }
  applyTelemetry(fn, options, 'ObserveFunctions');
  // Only now: a function whose settings were refused stays open to corrected ones.
  observed.add(fn);
  const family = fn.runtime.family;
  const sdk = {
    ...SDK_ENVIRONMENT,
    ...(family === lambda.RuntimeFamily.PYTHON || family === lambda.RuntimeFamily.JAVA
      ? AWS_LAMBDA_INSTRUMENTATION_FLUSH_TIMEOUT
      : {}),
  };
  // The function's own settings win.
  for (const [name, value] of Object.entries(sdk)) {
    if (environmentValue(fn, name) === undefined) fn.addEnvironment(name, value);
  }
  return true;
}

function warnUnobservable(fn: lambda.Function, reason: string): void {
  Annotations.of(fn).addWarningV2(
    'observed-lambda:unsupported-function',
    `observed-lambda cannot observe this function: ${reason}. Exclude it with ObserveFunctions.exclude() to silence this warning.`,
  );
}

function observeNodeFunction(fn: lambda.Function, options: TelemetryOptions): boolean {
  const reason = unsupportedRuntimeReason(fn.runtime);
  if (reason !== undefined) {
    warnUnobservable(fn, reason);
    return false;
  }
  const wrapper = environmentValue(fn, ENV.execWrapper);
  if (wrapper !== undefined && wrapper !== EXEC_WRAPPER_PATH) {
    Annotations.of(fn).addWarningV2(
      'observed-lambda:exec-wrapper-taken',
      `observed-lambda cannot observe this function: it already has ${ENV.execWrapper}=${wrapper}, and Lambda runs one wrapper only. Exclude it with ObserveFunctions.exclude() or remove the other wrapper.`,
    );
    return false;
  }
  applyTelemetry(fn, options, 'ObserveFunctions');
  // Only now: a function whose settings were refused stays open to corrected ones.
  observed.add(fn);
  fn.addEnvironment(ENV.execWrapper, EXEC_WRAPPER_PATH);
  return true;
}
