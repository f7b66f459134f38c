/**
 * The extension's own counters, exported as OTLP metrics like any other
 * metric (scope "observed-lambda"), so a user sees in their backend what the
 * extension received, delivered, dropped (and why) and retried:
 *
 *   observed_lambda.received        {signal, source}            items taken in
 *   observed_lambda.exported        {signal, exporter, unit}    delivered by an exporter
 *   observed_lambda.dropped         {signal, exporter, reason}  given up (exporter "pipeline": before any exporter)
 *   observed_lambda.retried         {signal, exporter, unit}    sent again after a retryable failure
 *   observed_lambda.flush.duration  {trigger}                   seconds per flush (histogram)
 *
 * "Items" are spans, metric data points and log records. Exporters that count
 * in their own unit (remote write counts samples, OpenSearch documents) say
 * so in the `unit` attribute. Exporters report through `addSource`, which is
 * read at every snapshot, so they keep their counters where they are.
 */

import type { ExporterCounterRow } from '../contracts/exporter.js';
import { AggregationTemporality, type KeyValue, SIGNALS, type Signal } from '../otlp/types.js';
import { toAttributes } from '../resource/attributes.js';

export const SELF_SCOPE = { name: 'observed-lambda' };

/** Where received items came from. */
export type Source = 'function' | 'platform' | 'self';

/** One exporter's counters for one signal. */
export type { ExporterCounterRow };

export type CounterSource = () => readonly ExporterCounterRow[];

/** Epoch milliseconds as OTLP nanoseconds, a decimal string (exact beyond 2^53). */
function msToNanos(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}

const FLUSH_BOUNDS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class DurationHistogram {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  readonly counts = new Array<number>(FLUSH_BOUNDS_S.length + 1).fill(0);

  record(seconds: number): void {
    this.count++;
    this.sum += seconds;
    this.min = Math.min(this.min, seconds);
    this.max = Math.max(this.max, seconds);
    let i = 0;
    while (i < FLUSH_BOUNDS_S.length && seconds > FLUSH_BOUNDS_S[i]) i++;
    this.counts[i]++;
  }
}

export interface SelfSnapshot {
  received: Record<Signal, Record<Source, number>>;
  /** Drops before any exporter took the data, by signal and reason. */
  pipelineDropped: Record<Signal, Record<string, number>>;
  exporters: ExporterCounterRow[];
  flushes: Record<string, { count: number; sumSeconds: number }>;
}

export class SelfMetrics {
  private readonly received = new Map<string, number>();
  private readonly pipelineDropped = new Map<string, number>();
  private readonly sources: CounterSource[] = [];
  private readonly flushes = new Map<string, DurationHistogram>();
  private readonly startTimeMs: number;

  constructor(startTimeMs = Date.now()) {
    this.startTimeMs = startTimeMs;
  }

  noteReceived(signal: Signal, source: Source, items: number): void {
    const key = `${signal}\0${source}`;
    this.received.set(key, (this.received.get(key) ?? 0) + items);
  }

  noteDropped(signal: Signal, reason: string, items: number): void {
    if (items <= 0) return;
    const key = `${signal}\0${reason}`;
    this.pipelineDropped.set(key, (this.pipelineDropped.get(key) ?? 0) + items);
  }

  noteFlush(trigger: string, seconds: number): void {
    let h = this.flushes.get(trigger);
    if (!h) {
      h = new DurationHistogram();
      this.flushes.set(trigger, h);
    }
    h.record(seconds);
  }

  addSource(source: CounterSource): void {
    this.sources.push(source);
  }

  snapshot(): SelfSnapshot {
    const received = {} as SelfSnapshot['received'];
    const pipelineDropped = {} as SelfSnapshot['pipelineDropped'];
    for (const signal of SIGNALS) {
      received[signal] = { function: 0, platform: 0, self: 0 };
      pipelineDropped[signal] = {};
    }
    for (const [key, value] of this.received) {
      const [signal, source] = key.split('\0') as [Signal, Source];
      received[signal][source] = value;
    }
    for (const [key, value] of this.pipelineDropped) {
      const [signal, reason] = key.split('\0') as [Signal, string];
      pipelineDropped[signal][reason] = value;
    }
    const flushes: SelfSnapshot['flushes'] = {};
    for (const [trigger, h] of this.flushes) flushes[trigger] = { count: h.count, sumSeconds: h.sum };
    return { received, pipelineDropped, exporters: this.exporterRows(), flushes };
  }

  /**
   * The counters as one OTLP/JSON metrics request, stamped `nowMs` (encoded
   * with otlp/json.ts, which keeps the generated protobuf code off the
   * extension's start-up path).
   */
  toRequest(resource: KeyValue[], nowMs = Date.now()): { request: Record<string, unknown>; points: number } {
    const start = msToNanos(this.startTimeMs);
    const time = msToNanos(nowMs);
    const point = (attributes: Record<string, string>, value: number) => ({
      attributes: toAttributes(attributes),
      startTimeUnixNano: start,
      timeUnixNano: time,
      asInt: String(value),
    });
    type Point = ReturnType<typeof point>;
    const counter = (name: string, description: string, dataPoints: Point[]) => ({
      name,
      description,
      unit: '{item}',
      sum: { dataPoints, aggregationTemporality: AggregationTemporality.CUMULATIVE, isMonotonic: true },
    });
    const snapshot = this.snapshot();
    const received: Point[] = [];
    const exported: Point[] = [];
    const dropped: Point[] = [];
    const retried: Point[] = [];
    for (const signal of SIGNALS) {
      for (const [source, value] of Object.entries(snapshot.received[signal])) {
        if (value > 0) received.push(point({ signal, source }, value));
      }
      for (const [reason, value] of Object.entries(snapshot.pipelineDropped[signal])) {
        dropped.push(point({ signal, exporter: 'pipeline', reason }, value));
      }
    }
    for (const row of snapshot.exporters) {
      const { exporter, signal, unit } = row;
      exported.push(point({ signal, exporter, unit }, row.exported));
      retried.push(point({ signal, exporter, unit: row.retriedUnit ?? unit }, row.retried));
      for (const [reason, value] of Object.entries(row.dropped)) {
        if (value > 0) dropped.push(point({ signal, exporter, unit: row.droppedUnit ?? unit, reason }, value));
      }
    }
    const metrics: Record<string, unknown>[] = [
      counter('observed_lambda.received', 'Items the extension took in', received),
      counter('observed_lambda.exported', 'Items an exporter delivered', exported),
      counter('observed_lambda.dropped', 'Items given up, by reason', dropped),
      counter('observed_lambda.retried', 'Items sent again after a retryable failure', retried),
    ].filter((m) => m.sum.dataPoints.length > 0);
    let points = metrics.reduce((n, m) => n + (m.sum as { dataPoints: unknown[] }).dataPoints.length, 0);
    if (this.flushes.size > 0) {
      const dataPoints = [...this.flushes].map(([trigger, h]) => ({
        attributes: toAttributes({ trigger }),
        startTimeUnixNano: start,
        timeUnixNano: time,
        count: String(h.count),
        sum: h.sum,
        min: h.min,
        max: h.max,
        bucketCounts: h.counts.map(String),
        explicitBounds: FLUSH_BOUNDS_S,
      }));
      points += dataPoints.length;
      metrics.push({
        name: 'observed_lambda.flush.duration',
        description: 'Duration of a flush',
        unit: 's',
        histogram: { aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints },
      });
    }
    return {
      request: {
        resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope: SELF_SCOPE, metrics }] }],
      },
      points,
    };
  }

  private exporterRows(): ExporterCounterRow[] {
    const rows: ExporterCounterRow[] = [];
    for (const source of this.sources) {
      try {
        rows.push(...source());
      } catch {
        // A failing source must not take the self metrics down.
      }
    }
    return rows;
  }
}
