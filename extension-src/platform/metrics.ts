/**
 * The platform's metrics, kept as cumulative counters and explicit-bucket
 * histograms and written as one OTLP ExportMetricsServiceRequest.
 *
 * Names follow the OpenTelemetry FaaS semantic conventions where one exists
 * (faas.invocations counts successful invocations, as the convention says;
 * faas.errors counts status "error" and "failure"; faas.timeouts status
 * "timeout"), and use `aws.lambda.*` for what only Lambda reports.
 * faas.invoke_duration is the report's `durationMs`, the Duration Lambda
 * shows in its REPORT line and CloudWatch; the runtime's own share is
 * aws.lambda.runtime_duration and what extensions added after the response
 * is aws.lambda.post_runtime_duration.
 *
 * Temporality is cumulative from one start time, fixed when this object is
 * made (the extension starts with the execution environment), so every
 * export of the environment's series shares it and a new environment starts
 * new series.
 */
import type Long from 'long';
import type { HistogramDataPoint, KeyValue, Metric, NumberDataPoint } from '../otlp/types.js';
import { AggregationTemporality } from '../otlp/types.js';
import { toAttributes } from '../resource/attributes.js';
import { msToNanos } from './events.js';

const MIB = 1024 * 1024;

/** Seconds, from a 1 ms cold path to Lambda's 900 s limit; the semconv boundaries plus Lambda's long tail. */
export const DURATION_BOUNDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300, 600, 900,
];
/** Seconds; Lambda stops an init after 10 s (on-demand). */
export const INIT_DURATION_BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10];
/** Seconds; time-to-first-byte and streaming of the response are usually well below the invoke duration. */
export const RESPONSE_TIME_BOUNDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
/** Bytes, at Lambda's memory sizes (128 MiB to 10,240 MiB). */
export const MEMORY_BOUNDS = [64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 10240].map(
  (mb) => mb * MIB,
);
/** Bytes: up to the 6 MB buffered and 20 MB streamed response limits. */
export const RESPONSE_SIZE_BOUNDS = [256, 1024, 4096, 16384, 65536, 262144, MIB, 6 * MIB, 20 * MIB];

class Counter {
  value = 0;
  constructor(
    readonly name: string,
    readonly unit: string,
    readonly description: string,
  ) {}
}

class Histogram {
  readonly counts: number[];
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  constructor(
    readonly name: string,
    readonly unit: string,
    readonly description: string,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  record(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    // Buckets are upper-inclusive (OTLP: bounds[i-1] < x <= bounds[i]).
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }
}

export interface InvocationOutcome {
  status: string;
  coldStart: boolean;
  durationMs?: number;
  billedDurationMs?: number;
  runtimeDurationMs?: number;
  postRuntimeDurationMs?: number;
  maxMemoryUsedMB?: number;
  producedBytes?: number;
  responseLatencyMs?: number;
  responseDurationMs?: number;
}

export class PlatformMetrics {
  readonly invocations = new Counter('faas.invocations', '{invocation}', 'Number of successful invocations.');
  readonly errors = new Counter('faas.errors', '{error}', 'Number of invocation errors (status error or failure).');
  readonly timeouts = new Counter('faas.timeouts', '{timeout}', 'Number of invocation timeouts.');
  readonly coldstarts = new Counter('faas.coldstarts', '{coldstart}', 'Number of invocation cold starts.');
  readonly droppedTelemetry = new Counter(
    'aws.lambda.telemetry.dropped_records',
    '{record}',
    'Telemetry API records Lambda dropped because the extension fell behind (platform.logsDropped).',
  );
  readonly invokeDuration = new Histogram(
    'faas.invoke_duration',
    's',
    "Invocation duration as Lambda reports it (platform.report durationMs), extensions' post-runtime time included.",
    DURATION_BOUNDS,
  );
  readonly initDuration = new Histogram(
    'faas.init_duration',
    's',
    "Duration of the function's initialization (platform.initReport).",
    INIT_DURATION_BOUNDS,
  );
  readonly memUsage = new Histogram(
    'faas.mem_usage',
    'By',
    'Maximum memory used per invocation (platform.report maxMemoryUsedMB).',
    MEMORY_BOUNDS,
  );
  readonly billedDuration = new Histogram(
    'aws.lambda.billed_duration',
    's',
    'Billed duration per invocation.',
    DURATION_BOUNDS,
  );
  readonly runtimeDuration = new Histogram(
    'aws.lambda.runtime_duration',
    's',
    'Time from the start of the invocation until the runtime finished (platform.runtimeDone durationMs).',
    DURATION_BOUNDS,
  );
  readonly postRuntimeDuration = new Histogram(
    'aws.lambda.post_runtime_duration',
    's',
    'Time extensions added after the runtime finished: report durationMs minus runtimeDone durationMs.',
    RESPONSE_TIME_BOUNDS,
  );
  readonly responseLatency = new Histogram(
    'aws.lambda.response_latency',
    's',
    'Time until the function started sending its response (runtimeDone responseLatency span).',
    RESPONSE_TIME_BOUNDS,
  );
  readonly responseDuration = new Histogram(
    'aws.lambda.response_duration',
    's',
    'Time the function took to send its whole response (runtimeDone responseDuration span).',
    RESPONSE_TIME_BOUNDS,
  );
  readonly responseSize = new Histogram(
    'aws.lambda.response_size',
    'By',
    'Response size (runtimeDone producedBytes).',
    RESPONSE_SIZE_BOUNDS,
  );

  private readonly counters = [this.invocations, this.errors, this.timeouts, this.coldstarts, this.droppedTelemetry];
  private readonly histograms = [
    this.invokeDuration,
    this.initDuration,
    this.memUsage,
    this.billedDuration,
    this.runtimeDuration,
    this.postRuntimeDuration,
    this.responseLatency,
    this.responseDuration,
    this.responseSize,
  ];
  /** Whether anything was recorded since the last export. */
  dirty = false;
  private readonly startTime: Long;

  constructor(startTimeMs: number) {
    this.startTime = msToNanos(startTimeMs);
  }

  recordInvocation(o: InvocationOutcome): void {
    if (o.status === 'timeout') this.timeouts.value++;
    else if (o.status === 'error' || o.status === 'failure') this.errors.value++;
    else if (o.status === 'success') this.invocations.value++;
    if (o.coldStart) this.coldstarts.value++;
    const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
    const observe = (h: Histogram, v: number | undefined) => v !== undefined && h.record(v);
    observe(this.invokeDuration, seconds(o.durationMs));
    observe(this.billedDuration, seconds(o.billedDurationMs));
    observe(this.runtimeDuration, seconds(o.runtimeDurationMs));
    observe(this.postRuntimeDuration, seconds(o.postRuntimeDurationMs));
    observe(this.responseLatency, seconds(o.responseLatencyMs));
    observe(this.responseDuration, seconds(o.responseDurationMs));
    observe(this.responseSize, o.producedBytes);
    observe(this.memUsage, o.maxMemoryUsedMB === undefined ? undefined : o.maxMemoryUsedMB * MIB);
    this.dirty = true;
  }

  recordInit(durationMs: number): void {
    this.initDuration.record(durationMs / 1000);
    this.dirty = true;
  }

  recordDroppedTelemetry(records: number): void {
    this.droppedTelemetry.value += records;
    this.dirty = true;
  }

  /** Metrics with every series that has data, stamped `nowMs`. */
  toMetrics(nowMs: number, attributes: KeyValue[] = toAttributes({})): Metric[] {
    const time = msToNanos(nowMs);
    const metrics: Metric[] = [];
    for (const c of this.counters) {
      const point: NumberDataPoint = {
        attributes,
        startTimeUnixNano: this.startTime,
        timeUnixNano: time,
        asInt: c.value,
      };
      metrics.push({
        name: c.name,
        unit: c.unit,
        description: c.description,
        sum: { dataPoints: [point], aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true },
      });
    }
    for (const h of this.histograms) {
      if (h.count === 0) continue;
      const point: HistogramDataPoint = {
        attributes,
        startTimeUnixNano: this.startTime,
        timeUnixNano: time,
        count: h.count,
        sum: h.sum,
        bucketCounts: [...h.counts],
        explicitBounds: [...h.bounds],
        min: h.min,
        max: h.max,
      };
      metrics.push({
        name: h.name,
        unit: h.unit,
        description: h.description,
        histogram: { dataPoints: [point], aggregationTemporality: AggregationTemporality.CUMULATIVE },
      });
    }
    return metrics;
  }

  /** Data points in one export, for accounting. */
  pointCount(): number {
    return this.counters.length + this.histograms.filter((h) => h.count > 0).length;
  }
}
