/**
 * What travels from the receivers and the platform module through the
 * pipeline to the exporters: one OTLP export request, still encoded.
 */
import type { Signal } from '../otlp/types.js';

/** One OTLP Export*ServiceRequest in protobuf, as received (or built by the platform module). */
export interface OtlpPayload {
  readonly signal: Signal;
  readonly bytes: Uint8Array;
  /** Spans, data points or log records inside, for accounting. */
  readonly items: number;
}
