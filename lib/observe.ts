import { Annotations, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { ENV, EXEC_WRAPPER_PATH } from './environment.js';
import { unsupportedRuntimeReason } from './runtimes.js';
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
 * Observes every Node.js Lambda function in the scope it is applied to (an
 * Aspect): adds the extension layer, `AWS_LAMBDA_EXEC_WRAPPER` (the layer's
 * wrapper starts OpenTelemetry in the function's process and flushes it before
 * each response), the destinations' environment and their IAM. A function it
 * cannot observe gets a warning annotation; `ObserveFunctions.exclude()` opts
 * a function, or every function under a construct, out.
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

function observeFunction(fn: lambda.Function, options: TelemetryOptions): boolean {
  if (observed.has(fn) || isExcluded(fn)) return false;
  const reason = unsupportedRuntimeReason(fn.runtime === lambda.Runtime.FROM_IMAGE ? undefined : fn.runtime);
  if (reason !== undefined) {
    Annotations.of(fn).addWarningV2(
      'observed-lambda:unsupported-function',
      `observed-lambda cannot observe this function: ${reason}. Exclude it with ObserveFunctions.exclude() to silence this warning.`,
    );
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
  observed.add(fn);
  applyTelemetry(fn, options, 'ObserveFunctions');
  fn.addEnvironment(ENV.execWrapper, EXEC_WRAPPER_PATH);
  return true;
}
