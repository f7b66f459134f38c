import { type Duration, type Size, Token } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { checkSettings } from './config-check.js';
import { bindDestination, type TelemetryDestination } from './destinations.js';
import { ENV } from './environment.js';
import { ConstructValidationError } from './errors.js';
import { type Settings, SettingsBuilder } from './settings.js';
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

/** A stream of the Lambda Telemetry API the extension subscribes to. */
export enum TelemetryStream {
  /** Platform events: the invocation's metrics and spans. */
  PLATFORM = 'platform',
  /** The function's log lines. */
  FUNCTION = 'function',
  /** The extensions' log lines. */
  EXTENSION = 'extension',
}

/** How much the extension holds per signal before export (`OBSERVED_BUFFER_*`). */
export interface BufferLimits {
  /**
   * Encoded bytes held per signal (64 KiB or more); beyond it the oldest data is dropped and counted.
   * @default Size.mebibytes(4)
   */
  readonly maxSize?: Size;

  /**
   * Spans, data points or log records held per signal (100 or more).
   * @default 20000
   */
  readonly maxItems?: number;
}

/** The extension's Telemetry API subscription (`OBSERVED_TELEMETRY_*`). */
export interface TelemetryApiOptions {
  /**
   * Streams to subscribe to; an empty list subscribes to none. Without `PLATFORM` there are no platform metrics
   * or spans, and only the function's flushed notice ends an invocation for the extension.
   * @default - all three
   */
  readonly streams?: TelemetryStream[];

  /**
   * Events per delivery (1000 to 10000).
   * @default 1000
   */
  readonly maxItems?: number;

  /**
   * Bytes per delivery (256 KiB to 1 MiB).
   * @default Size.kibibytes(256)
   */
  readonly maxSize?: Size;

  /**
   * How long Lambda holds events before delivering them (25 ms to 30 s).
   * @default Duration.millis(25)
   */
  readonly timeout?: Duration;
}

/** The extension's OTLP receiver on loopback, which the function's SDK exports to (`OBSERVED_RECEIVER_*`). */
export interface ReceiverOptions {
  /**
   * Port of the OTLP/HTTP receiver (the function's SDK must export to it).
   * @default 4318
   */
  readonly port?: number;

  /**
   * Port of the OTLP/gRPC receiver.
   * @default 4317
   */
  readonly grpcPort?: number;

  /**
   * Largest request body as sent (1 KiB or more; 413 above it).
   * @default Size.mebibytes(4)
   */
  readonly maxBodySize?: Size;

  /**
   * Largest body after gzip decompression (1 KiB or more).
   * @default Size.mebibytes(16)
   */
  readonly maxDecompressedSize?: Size;
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
   * Adaptive flushing: the longest data waits in a running environment (100 ms to 1 hour).
   * @default Duration.seconds(5)
   */
  readonly flushMaxAge?: Duration;

  /**
   * Longest flush at the end of an invocation (10 ms to 15 minutes; also bounded by the invocation's deadline);
   * what is not delivered stays queued for the next flush.
   * @default Duration.seconds(2)
   */
  readonly flushTimeout?: Duration;

  /**
   * How much the extension holds per signal.
   * @default - see BufferLimits
   */
  readonly bufferLimits?: BufferLimits;

  /**
   * The Telemetry API subscription.
   * @default - see TelemetryApiOptions
   */
  readonly telemetryApi?: TelemetryApiOptions;

  /**
   * The OTLP receiver.
   * @default - see ReceiverOptions
   */
  readonly receiver?: ReceiverOptions;

  /**
   * Whether the extension exports its own counters (`observed_lambda.*`) with the other metrics.
   * @default true
   */
  readonly selfMetrics?: boolean;

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

/** The settings of the options themselves (not of their destinations). */
function optionSettings(options: TelemetryOptions): Settings {
  const api = options.telemetryApi;
  const streams = api?.streams;
  return new SettingsBuilder('telemetry.')
    .text(ENV.flush, 'flush', options.flush?.value)
    .millis(ENV.flushMaxAgeMs, 'flushMaxAge', options.flushMaxAge)
    .millis(ENV.flushTimeoutMs, 'flushTimeout', options.flushTimeout)
    .bytes(ENV.bufferMaxBytes, 'bufferLimits.maxSize', options.bufferLimits?.maxSize)
    .number(ENV.bufferMaxItems, 'bufferLimits.maxItems', options.bufferLimits?.maxItems)
    .text(ENV.telemetryTypes, 'telemetryApi.streams', streams && (streams.length === 0 ? 'none' : streams.join(',')))
    .number(ENV.telemetryMaxItems, 'telemetryApi.maxItems', api?.maxItems)
    .bytes(ENV.telemetryMaxBytes, 'telemetryApi.maxSize', api?.maxSize)
    .millis(ENV.telemetryTimeoutMs, 'telemetryApi.timeout', api?.timeout)
    .number(ENV.receiverPort, 'receiver.port', options.receiver?.port)
    .number(ENV.receiverGrpcPort, 'receiver.grpcPort', options.receiver?.grpcPort)
    .bytes(ENV.receiverMaxBodyBytes, 'receiver.maxBodySize', options.receiver?.maxBodySize)
    .bytes(ENV.receiverMaxDecompressedBytes, 'receiver.maxDecompressedSize', options.receiver?.maxDecompressedSize)
    .flag(ENV.selfMetrics, 'selfMetrics', options.selfMetrics)
    .text(ENV.logLevel, 'logLevel', options.logLevel).settings;
}

/**
 * Adds the layer, the extension's environment and the destinations' IAM to a function. Throws, naming the
 * function, when the extension would refuse a setting: the function then gets nothing (but what a destination
 * of another library grants as it binds). `where` names the caller.
 */
export function applyTelemetry(fn: lambda.Function, options: TelemetryOptions, where: string): void {
  const bindings = options.destinations.map((d) => bindDestination(d, fn, fn));
  const settings: Settings = {};
  for (const part of [...bindings.map((b) => b.settings), optionSettings(options)]) {
    for (const [name, setting] of Object.entries(part)) {
      const earlier = settings[name];
      if (earlier !== undefined && earlier.value !== setting.value) {
        // The remote write and Pushgateway exporters read the same OBSERVED_PROMETHEUS_* variables.
        throw new ConstructValidationError(
          fn.node.path,
          `${where}: ${earlier.prop} and ${setting.prop} set ${name} to different values; the extension has one, give both the same`,
        );
      }
      settings[name] = setting;
    }
  }
  checkSettings(fn, where, settings);
  // Only a function whose settings the extension accepts gets the grants and the layer.
  for (const binding of bindings) binding.grant(fn);
  const extension = options.extension ?? TelemetryExtension.of(fn);
  fn.addLayers(extension.layerFor(fn.runtime));
  for (const [name, { value }] of Object.entries(settings)) fn.addEnvironment(name, value);
}
