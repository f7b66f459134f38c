/**
 * Drives the real OpenTelemetry JS metrics SDK the way a Lambda function does:
 * record during an "invocation", force-flush, and the SDK's own OTLP/proto
 * exporter POSTs the request; a loopback server keeps the bytes, which the test
 * hands to an exporter exactly as the extension's receiver would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { AggregationTemporalityPreference } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ViewOptions,
} from '@opentelemetry/sdk-metrics';
import type { OtlpPayload } from '../../../../extension-src/contracts/payload.js';
import { decodeRequest } from '../../../../extension-src/otlp/proto.js';
import type { Metric } from '../../../../extension-src/otlp/types.js';
import { countPoints, metricsIn, pointsOf } from './metrics-request.js';

export class OtlpCapture {
  readonly bodies: Buffer[] = [];
  private server: Server | undefined;

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `http://127.0.0.1:${address?.port}/v1/metrics`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.bodies.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return this;
  }

  /** Takes what arrived since the last call. */
  take(): Buffer[] {
    return this.bodies.splice(0, this.bodies.length);
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

export interface SdkOptions {
  temporality: 'delta' | 'cumulative';
  resource: Record<string, string>;
  views?: ViewOptions[];
}

export class SdkFunction {
  readonly provider: MeterProvider;
  readonly meter: Meter;
  private readonly reader: PeriodicExportingMetricReader;

  /** Each function gets its own capture server, so exports of one never reach another's test. */
  static async start(options: SdkOptions): Promise<SdkFunction> {
    return new SdkFunction(await new OtlpCapture().start(), options);
  }

  private constructor(
    private readonly capture: OtlpCapture,
    options: SdkOptions,
  ) {
    const exporter = new OTLPMetricExporter({
      url: capture.url,
      temporalityPreference:
        options.temporality === 'delta'
          ? AggregationTemporalityPreference.DELTA
          : AggregationTemporalityPreference.CUMULATIVE,
    });
    // Exports only when the "invocation" ends (force flush), as the function wrapper does.
    this.reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes(options.resource),
      readers: [this.reader],
      views: options.views,
    });
    this.meter = this.provider.getMeter('checkout', '1.2.3');
  }

  /** Ends an invocation: the SDK exports, and the OTLP request bytes come back as payloads. */
  async flush(): Promise<OtlpPayload[]> {
    await this.reader.forceFlush();
    return this.capture
      .take()
      .map((bytes) => ({ signal: 'metrics', bytes, items: countPoints(decodeRequest('metrics', bytes)) }));
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
    await this.capture.stop();
  }
}

/** Millisecond timestamps of every point of a metric in the payloads, oldest first. */
export function pointTimes(payloads: OtlpPayload[], metricName: string): number[] {
  const out: number[] = [];
  for (const m of metricsNamed(payloads, metricName)) {
    for (const dp of pointsOf(m)) out.push(Number(BigInt(String(dp.timeUnixNano)) / 1_000_000n));
  }
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Scales the SDK chose for an exponential histogram, over all payloads. */
export function exponentialScales(payloads: OtlpPayload[], metricName: string): number[] {
  const out: number[] = [];
  for (const m of metricsNamed(payloads, metricName)) {
    for (const dp of m.exponentialHistogram?.dataPoints ?? []) out.push(dp.scale ?? 0);
  }
  return out;
}

/** The metrics of that name in the payloads, in the order they were sent. */
function* metricsNamed(payloads: OtlpPayload[], metricName: string): Generator<Metric> {
  for (const p of payloads) {
    for (const m of metricsIn(decodeRequest('metrics', p.bytes))) if (m.name === metricName) yield m;
  }
}

export const EXPONENTIAL_VIEW = (instrumentName: string): ViewOptions => ({
  instrumentName,
  aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
});

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
