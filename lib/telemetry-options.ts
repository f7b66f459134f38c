import { type Duration, Token } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { TelemetryDestination } from './destinations.js';
import { ENV } from './environment.js';
import { ConstructValidationError } from './errors.js';
import { TelemetryExtension } from './telemetry-extension.js';

/** When the extension exports what it holds (`OBSERVED_FLUSH`). */
export class FlushStrategy {
  /** Export everything at the end of every invocation, before the environment may freeze. */
  public static endOfInvocation(): FlushStrategy {
    return new FlushStrategy('end-of-invocation');
  }

  /** Export at the end of an invocation only when `interval` has passed since the last export. */
  public static periodic(interval: Duration): FlushStrategy {
    const ms = interval.toMilliseconds();
    if (!Token.isUnresolved(ms) && (!Number.isInteger(ms) || ms < 10 || ms > 3_600_000)) {
      throw new Error(
        `FlushStrategy.periodic: the interval must be a whole number of milliseconds from 10 ms to 1 hour; got ${ms} ms`,
      );
    }
    return new FlushStrategy(`periodic:${ms}`);
  }

  /** End-of-invocation for rare invocations, periodic with background export while busy (the extension's default). */
  public static adaptive(): FlushStrategy {
    return new FlushStrategy('adaptive');
  }

  private constructor(
    /** The value of `OBSERVED_FLUSH`. */
    public readonly value: string,
  ) {}
}

/** Log level of the extension (`OBSERVED_LOG_LEVEL`). */
export enum ExtensionLogLevel {
  /** Everything, including every export. */
  DEBUG = 'debug',
  /** Start-up, configuration and problems. */
  INFO = 'info',
  /** Problems only. */
  WARN = 'warn',
  /** Errors only. */
  ERROR = 'error',
}

/** Where a function's telemetry goes and how the extension sends it. */
export interface TelemetryOptions {
  /** Destinations of the telemetry; at least one, at most one of each kind. */
  readonly destinations: TelemetryDestination[];

  /**
   * When the extension exports.
   * @default FlushStrategy.adaptive()
   */
  readonly flush?: FlushStrategy;

  /**
   * Log level of the extension.
   * @default ExtensionLogLevel.INFO
   */
  readonly logLevel?: ExtensionLogLevel;

  /**
   * The extension layer.
   * @default TelemetryExtension.of(stack), one layer per stack
   */
  readonly extension?: TelemetryExtension;
}

/**
 * Throws when the options cannot work; `where` names the caller in the message, `constructPath` the function
 * they are for (when there is one).
 */
export function validateTelemetryOptions(
  where: string,
  options: TelemetryOptions | undefined,
  constructPath?: string,
): void {
  const refuse = (message: string) =>
    constructPath === undefined ? new Error(message) : new ConstructValidationError(constructPath, message);
  const destinations = options?.destinations;
  if (destinations === undefined || destinations.length === 0) {
    throw refuse(
      `${where}: telemetry.destinations needs at least one destination, e.g. TelemetryDestination.prometheus(workspace)`,
    );
  }
  const kinds = new Set<string>();
  for (const destination of destinations) {
    if (kinds.has(destination.kind)) {
      throw refuse(
        `${where}: telemetry.destinations has two ${destination.kind} destinations; the extension sends to one of each kind`,
      );
    }
    kinds.add(destination.kind);
  }
}

/** Adds the layer, the extension's environment and the destinations' IAM to a function. */
export function applyTelemetry(fn: lambda.Function, options: TelemetryOptions): void {
  const extension = options.extension ?? TelemetryExtension.of(fn);
  fn.addLayers(extension.layer);
  const environment: Record<string, string> = {};
  for (const destination of options.destinations) {
    Object.assign(environment, destination.bind(fn, fn).environment);
  }
  if (options.flush !== undefined) environment[ENV.flush] = options.flush.value;
  if (options.logLevel !== undefined) environment[ENV.logLevel] = options.logLevel;
  for (const [name, value] of Object.entries(environment)) fn.addEnvironment(name, value);
}
