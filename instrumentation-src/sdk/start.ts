/**
 * Starts the OpenTelemetry SDK for traces, metrics and logs once per process
 * and keeps it in a process-wide slot, so that every copy of this module (the
 * layer's preload and a bundled ObservedFunction entry, say) shares one SDK.
 */
import { context, DiagConsoleLogger, diag, metrics, propagation, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { diagLogLevelFromString } from '@opentelemetry/core';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, type Sampler } from '@opentelemetry/sdk-trace-base';
import { type ResolvedConfig, resolveConfig, type TelemetryOptions } from '../config.js';
import { describeError, warnOnce } from '../log.js';
import { logExporter, metricExporter, signalEnabled, spanProcessor } from './exporters.js';
import { selectedInstrumentations, startInstrumentations } from './instrumentations.js';
import { trackMeasurements } from './metric-activity.js';
import { propagatorFromList } from './propagators.js';
import { lambdaResource } from './resource.js';
import { samplerFromEnvironment } from './sampler.js';

/** The running SDK. A provider is absent when its signal is turned off (or the SDK is disabled). */
export interface Telemetry {
  readonly config: ResolvedConfig;
  readonly tracerProvider: BasicTracerProvider | undefined;
  /** The tracer provider's sampler (OTEL_TRACES_SAMPLER). */
  readonly sampler?: Sampler;
  readonly meterProvider: MeterProvider | undefined;
  readonly loggerProvider: LoggerProvider | undefined;
  /** Names of the auto-instrumentations started (or waiting for their library to load). */
  readonly instrumentations: readonly string[];
  /**
   * Whether a metric collection may find something new since the last call (a measurement was
   * recorded, or observable instruments exist); the end-of-invocation flush skips metrics otherwise.
   * Absent: always collect.
   */
  readonly metricsActive?: () => boolean;
}

const SLOT = Symbol.for('observed-lambda.telemetry');
const DEFAULT_METRIC_EXPORT_INTERVAL_MS = 60_000;

type GlobalWithSlot = typeof globalThis & { [SLOT]?: Telemetry };

/** The SDK started by any copy of this module in the process, if any. */
export function currentTelemetry(): Telemetry | undefined {
  return (globalThis as GlobalWithSlot)[SLOT];
}

/**
 * Starts the SDK (idempotent: later calls return the first SDK and ignore their options).
 * Never throws: a failure is reported in one line and the function runs without telemetry.
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const existing = currentTelemetry();
  if (existing) return existing;
  let telemetry: Telemetry;
  try {
    telemetry = createTelemetry(options);
  } catch (error) {
    warnOnce('start', `the OpenTelemetry SDK could not start; the function runs without it: ${describeError(error)}`);
    telemetry = disabledTelemetry(options);
  }
  (globalThis as GlobalWithSlot)[SLOT] = telemetry;
  return telemetry;
}

function disabledTelemetry(options: TelemetryOptions): Telemetry {
  return {
    config: { ...resolveConfig(options), noticeUrl: undefined },
    tracerProvider: undefined,
    meterProvider: undefined,
    loggerProvider: undefined,
    instrumentations: [],
  };
}

function createTelemetry(options: TelemetryOptions): Telemetry {
  const env = process.env;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return disabledTelemetry(options);
  if (env.OTEL_LOG_LEVEL) {
    diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(env.OTEL_LOG_LEVEL) });
  }

  const resource = lambdaResource(options.resourceAttributes, options.serviceName);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagatorFromList(env.OTEL_PROPAGATORS));

  let tracerProvider: BasicTracerProvider | undefined;
  let sampler: Sampler | undefined;
  if (signalEnabled('traces')) {
    sampler = samplerFromEnvironment();
    tracerProvider = new BasicTracerProvider({ resource, sampler, spanProcessors: [spanProcessor()] });
    trace.setGlobalTracerProvider(tracerProvider);
  }

  let meterProvider: MeterProvider | undefined;
  let metricsActive: (() => boolean) | undefined;
  if (signalEnabled('metrics')) {
    const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL) || DEFAULT_METRIC_EXPORT_INTERVAL_MS;
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: metricExporter(),
          exportIntervalMillis: interval,
          exportTimeoutMillis: Math.min(Number(env.OTEL_METRIC_EXPORT_TIMEOUT) || 30_000, interval),
        }),
      ],
    });
    metricsActive = trackMeasurements(meterProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  }

  let loggerProvider: LoggerProvider | undefined;
  if (signalEnabled('logs')) {
    loggerProvider = new LoggerProvider({
      resource,
      processors: [new BatchLogRecordProcessor({ exporter: logExporter() })],
    });
    logs.setGlobalLoggerProvider(loggerProvider);
  }

  const instrumentations = startInstrumentations(selectedInstrumentations(options.instrumentations));

  return {
    config: resolveConfig(options),
    tracerProvider,
    sampler,
    meterProvider,
    loggerProvider,
    instrumentations,
    metricsActive,
  };
}
