/**
 * Exporters per signal, from the standard variables: OTEL_{TRACES,METRICS,LOGS}_EXPORTER
 * (`otlp`, default, or `none`) and OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL (`http/protobuf`,
 * default, or `http/json`). The exporters themselves read the endpoint, headers, timeout and
 * compression variables; their default endpoint, http://localhost:4318, is the extension.
 */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { warnOnce } from '../log.js';

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

export function spanExporter(env: NodeJS.ProcessEnv = process.env): SpanExporter {
  if (protocol('traces', env) === 'http/json') {
    const json =
      require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new json.OTLPTraceExporter();
  }
  return new OTLPTraceExporter();
}

export function metricExporter(env: NodeJS.ProcessEnv = process.env): PushMetricExporter {
  if (protocol('metrics', env) === 'http/json') {
    const json =
      require('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http');
    return new json.OTLPMetricExporter();
  }
  return new OTLPMetricExporter();
}

export function logExporter(env: NodeJS.ProcessEnv = process.env): LogRecordExporter {
  if (protocol('logs', env) === 'http/json') {
    const json =
      require('@opentelemetry/exporter-logs-otlp-http') as typeof import('@opentelemetry/exporter-logs-otlp-http');
    return new json.OTLPLogExporter();
  }
  return new OTLPLogExporter();
}
