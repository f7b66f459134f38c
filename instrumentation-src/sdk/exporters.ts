/**
 * Exporters per signal, from the standard variables: OTEL_{TRACES,METRICS,LOGS}_EXPORTER
 * (`otlp`, default, or `none`) and OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL (`http/protobuf`,
 * default, or `http/json`). The exporters themselves read the endpoint, headers, timeout and
 * compression variables; their default endpoint, http://localhost:4318, is the extension.
 *
 * Protobuf exports to an uncompressed http: endpoint on this host (the extension) keep the SDK
 * exporter's serializer and export queue but go through the loopback transport
 * (../loopback/otlp-transport.ts) instead of node:http; spans there go through the loopback span
 * processor, which sends to the transport itself. Anything else gets the SDK's exporter as is.
 */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { createOtlpNetworkExportDelegate, ExporterMetrics, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  type ISerializer,
  LogsExporterMetricsHelper,
  MetricsExporterMetricsHelper,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
  TraceExporterMetricsHelper,
} from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { warnOnce } from '../log.js';
import { loopbackTarget } from '../loopback/connection.js';
import { LoopbackOtlpTransport } from '../loopback/otlp-transport.js';
import { LoopbackSpanProcessor } from './loopback-span-processor.js';

export type Signal = 'traces' | 'metrics' | 'logs';

/** Whether the signal is exported at all (OTEL_<SIGNAL>_EXPORTER=none turns it off). */
export function signalEnabled(signal: Signal, env: NodeJS.ProcessEnv = process.env): boolean {
  const variable = `OTEL_${signal.toUpperCase()}_EXPORTER`;
  const names = (env[variable] ?? 'otlp')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0 || names.includes('otlp')) return true;
  if (names.every((n) => n === 'none')) return false;
  warnOnce(`exporter:${variable}`, `${variable}: only "otlp" and "none" are supported; using "otlp".`);
  return true;
}

function protocol(signal: Signal, env: NodeJS.ProcessEnv): 'http/protobuf' | 'http/json' {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  const value = (env[specific] || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim();
  if (value === 'http/protobuf' || value === 'http/json') return value;
  warnOnce(
    `protocol:${value}`,
    `${env[specific] ? specific : 'OTEL_EXPORTER_OTLP_PROTOCOL'}: "${value}" is not supported in Lambda (the extension listens on OTLP/HTTP); using "http/protobuf".`,
  );
  return 'http/protobuf';
}

/**
 * The span processor: for protobuf exports to the extension on this host, the loopback span processor
 * (serializes a flush's spans and writes them itself); otherwise the SDK's BatchSpanProcessor with the
 * exporter below.
 */
export function spanProcessor(env: NodeJS.ProcessEnv = process.env): SpanProcessor {
  const transport =
    protocol('traces', env) === 'http/protobuf' ? loopbackTransport(protobufExportOptions('traces')) : undefined;
  return transport ? new LoopbackSpanProcessor(transport) : new BatchSpanProcessor(spanExporter(env));
}

export function spanExporter(env: NodeJS.ProcessEnv = process.env): SpanExporter {
  if (protocol('traces', env) === 'http/json') {
    const json =
      require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new json.OTLPTraceExporter();
  }
  const delegate = loopbackDelegate('traces', ProtobufTraceSerializer, TraceExporterMetricsHelper);
  return delegate ? new OTLPExporterBase<ReadableSpan[]>(delegate) : new OTLPTraceExporter();
}

export function metricExporter(env: NodeJS.ProcessEnv = process.env): PushMetricExporter {
  if (protocol('metrics', env) === 'http/json') {
    const json =
      require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http');
    return new json.OTLPMetricExporter();
  }
  const delegate = loopbackDelegate('metrics', ProtobufMetricsSerializer, MetricsExporterMetricsHelper);
  if (!delegate) return new OTLPMetricExporter();
  // The metric base reads the temporality preference (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE). Its
  // types come from a nested copy of the exporter base (npm nests patch versions; the bundle keeps one copy).
  return new OTLPMetricExporterBase(delegate as unknown as ConstructorParameters<typeof OTLPMetricExporterBase>[0]);
}

export function logExporter(env: NodeJS.ProcessEnv = process.env): LogRecordExporter {
  if (protocol('logs', env) === 'http/json') {
    const json =
      require('@opentelemetry/exporter-logs-otlp-http') as typeof import('@opentelemetry/exporter-logs-otlp-http');
    return new json.OTLPLogExporter();
  }
  const delegate = loopbackDelegate('logs', ProtobufLogsSerializer, LogsExporterMetricsHelper);
  return delegate ? new OTLPExporterBase<ReadableLogRecord[]>(delegate) : new OTLPLogExporter();
}

/** The SDK's names per signal: the configuration's signal identifier, the path and the exporter's component type. */
const SIGNALS = {
  traces: { identifier: 'TRACES', path: 'v1/traces', component: 'otlp_http_span_exporter' },
  metrics: { identifier: 'METRICS', path: 'v1/metrics', component: 'otlp_http_metric_exporter' },
  logs: { identifier: 'LOGS', path: 'v1/logs', component: 'otlp_http_log_exporter' },
} as const;

/** The signal's exporter options from the environment, as the SDK's protobuf exporter reads them. */
function protobufExportOptions(signal: Signal) {
  const names = SIGNALS[signal];
  return convertLegacyHttpOptions({}, names.identifier, names.path, { 'Content-Type': 'application/x-protobuf' });
}

/**
 * The loopback transport for the exporter options' endpoint; undefined when the endpoint is not on
 * this host or compression is asked for (the SDK's exporter handles those).
 */
function loopbackTransport(options: ReturnType<typeof protobufExportOptions>): LoopbackOtlpTransport | undefined {
  if (options.compression !== 'none' || !loopbackTarget(options.url)) return undefined;
  return new LoopbackOtlpTransport(options.url, options.headers);
}

/**
 * An export delegate with the SDK's protobuf serializer and the loopback transport, configured from
 * the environment as the SDK's exporter would be; undefined where loopbackTransport is.
 */
function loopbackDelegate<Internal, Response>(
  signal: Signal,
  serializer: ISerializer<Internal, Response>,
  metricsHelper: ConstructorParameters<typeof ExporterMetrics<Internal>>[0]['metricsHelper'],
) {
  const options = protobufExportOptions(signal);
  const transport = loopbackTransport(options);
  if (!transport) return undefined;
  const names = SIGNALS[signal];
  // Without a meter provider the exporter's self-observability metrics are no-ops, as in the SDK's default.
  const metrics = new ExporterMetrics<Internal>({
    componentType: names.component,
    metricsHelper,
    url: options.url,
    meterProvider: undefined,
    responseAttributesFromError: () => ({}),
  });
  return createOtlpNetworkExportDelegate(options, serializer, metrics, transport);
}
