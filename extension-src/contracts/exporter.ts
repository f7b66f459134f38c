/**
 * The contract between the pipeline and every exporter (OTLP/HTTP, remote
 * write, Pushgateway, OpenSearch).
 *
 * The pipeline hands each exporter complete OTLP protobuf export requests as
 * they arrive. An exporter owns what it was given until it is delivered or
 * dropped: it keeps its own bounded queue, translates as it needs, retries,
 * and accounts every item in the extension's self counters. This keeps one
 * slow backend from holding back another, and lets an exporter keep the
 * ordering its backend needs (remote write rejects out-of-order samples).
 */
import type { Signal } from '../otlp/types.js';
import type { OtlpPayload } from './payload.js';

/** One row of an exporter's counters in the self metrics; every exporter reports in this shape. */
export interface ExporterCounterRow {
  readonly exporter: string;
  /** A signal, or several joined with "+" when an exporter does not count them apart. */
  readonly signal: string;
  /** What `exported` counts: "items" (spans, data points, log records), "samples", "documents", "pushes". */
  readonly unit: string;
  readonly exported: number;
  readonly retried: number;
  readonly dropped: Readonly<Record<string, number>>;
  /** What `retried` counts, when not `unit` (e.g. "requests"). */
  readonly retriedUnit?: string;
  /** What `dropped` counts, when not `unit`. */
  readonly droppedUnit?: string;
}

export interface Exporter {
  /** Short name used in logs and self metrics, e.g. "otlp", "remote-write". */
  readonly name: string;
  /** The signals this exporter takes; the pipeline offers it nothing else. */
  readonly signals: readonly Signal[];
  /** Takes ownership of a payload. Never throws; drops (and counts) the oldest data to stay bounded. */
  enqueue(payload: OtlpPayload): void;
  /** Items accepted but not yet delivered or dropped. */
  pendingItems(): number;
  /**
   * The same, by the `signal` of the exporter's counter rows, for an exporter that counts several signals apart;
   * without it, everything pending belongs to the row of its signals joined with "+".
   */
  pendingBySignal?(): Partial<Record<string, number>>;
  /**
   * Sends what is pending. Resolves before `deadlineMs` (epoch milliseconds) and never rejects;
   * what could not be sent in time stays queued for the next flush. `final` is the SHUTDOWN flush,
   * which tries a backend even while it cools down after failures.
   */
  flush(deadlineMs: number, options?: { final?: boolean }): Promise<void>;
  /** Its counters for the self metrics: one row, or one per signal for an exporter that counts them apart. */
  counterRows(): ExporterCounterRow[];
  /** Last call, at SHUTDOWN, after the final flush: staleness markers, grouping deletes, closing sockets. */
  shutdown(deadlineMs: number): Promise<void>;
}
