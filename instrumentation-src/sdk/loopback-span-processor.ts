/**
 * The span processor for protobuf exports to the extension on this host: it
 * queues ended spans and, on a flush, serializes them with the SDK's protobuf
 * serializer and hands each request to the loopback transport directly. It
 * keeps the BatchSpanProcessor's contract and settings (OTEL_BSP_MAX_QUEUE_SIZE,
 * OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_SCHEDULE_DELAY,
 * OTEL_BSP_EXPORT_TIMEOUT: a bounded queue, batches, a timer for spans that
 * end between flushes) without the exporter base, export delegate and promise
 * queue between the processor and the transport: every warm invocation ends
 * with a flush, and on Node.js 20 and 22 each promise on that path also runs
 * AsyncLocalStorage's hooks.
 */
import { TraceFlags } from '@opentelemetry/api';
import { getNumberFromEnv } from '@opentelemetry/core';
import type { ExportResponse } from '@opentelemetry/otlp-exporter-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { warnOnce } from '../log.js';

export interface SpanBatchOptions {
  /** Ended spans kept while waiting for export; more are dropped. */
  readonly maxQueueSize: number;
  /** Spans per export request. */
  readonly maxExportBatchSize: number;
  /** How long an ended span waits for a flush before it is exported anyway. */
  readonly scheduledDelayMillis: number;
  /** Given to the transport for each request. */
  readonly exportTimeoutMillis: number;
}

/** The BatchSpanProcessor's settings from OTEL_BSP_*, with its defaults. */
export function spanBatchOptions(): SpanBatchOptions {
  const maxQueueSize = getNumberFromEnv('OTEL_BSP_MAX_QUEUE_SIZE') ?? 2048;
  return {
    maxQueueSize,
    // As the BatchSpanProcessor: a batch is never larger than the queue.
    maxExportBatchSize: Math.min(getNumberFromEnv('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') ?? 512, maxQueueSize),
    scheduledDelayMillis: getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY') ?? 5000,
    exportTimeoutMillis: getNumberFromEnv('OTEL_BSP_EXPORT_TIMEOUT') ?? 30_000,
  };
}

/** What the processor needs of the loopback transport (../loopback/otlp-transport.ts). */
export interface SpanTransport {
  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse>;
}

const DONE: Promise<void> = Promise.resolve();
const nothing = () => {};

export class LoopbackSpanProcessor implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The sends in progress: while they are, spans wait in the queue (and past its bound are dropped). */
  private sending: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly transport: SpanTransport,
    private readonly options: SpanBatchOptions = spanBatchOptions(),
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.options.maxQueueSize) {
      this.dropped++;
      return;
    }
    if (this.dropped > 0) {
      warnOnce(
        'spans-dropped',
        `${this.dropped} spans were dropped: more than OTEL_BSP_MAX_QUEUE_SIZE (${this.options.maxQueueSize}) waited for export (later drops are not reported).`,
      );
      this.dropped = 0;
    }
    this.queue.push(span);
    if (this.queue.length >= this.options.maxExportBatchSize) {
      if (!this.sending) void this.exportQueued();
    } else if (!this.timer) {
      // Left running across flushes (it finds the queue empty then): no timer churn per invocation.
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.sending) void this.exportQueued();
      }, this.options.scheduledDelayMillis);
      // Queued spans do not keep the process alive, as with the BatchSpanProcessor.
      this.timer.unref();
    }
  }

  /** Resolves once the queued spans are sent (to the extension: written, or queued behind a held write). */
  forceFlush(): Promise<void> {
    return this.exportQueued();
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.exportQueued();
  }

  /** Sends every queued span, after the sends in progress; never rejects (the transport reports failures). */
  private exportQueued(): Promise<void> {
    if (this.sending) return this.sending.then(() => this.exportQueued());
    if (this.queue.length === 0) return DONE;
    const sent = this.sendQueue().then(() => {
      this.sending = undefined;
      // Spans that filled a batch meanwhile go now; fewer wait for a flush or the timer.
      if (this.queue.length >= this.options.maxExportBatchSize) void this.exportQueued();
    });
    this.sending = sent;
    return sent;
  }

  private sendQueue(): Promise<void> {
    const { maxExportBatchSize, exportTimeoutMillis } = this.options;
    const sends: Promise<unknown>[] = [];
    while (this.queue.length > 0) {
      const batch =
        this.queue.length <= maxExportBatchSize ? this.queue.splice(0) : this.queue.splice(0, maxExportBatchSize);
      const pending = batch.filter((span) => span.resource.asyncAttributesPending);
      if (pending.length > 0) {
        // Resource attributes still being detected: serialize once they are in (not the case for the Lambda resource).
        sends.push(
          Promise.all(pending.map((span) => span.resource.waitForAsyncAttributes?.())).then(() =>
            this.send(batch, exportTimeoutMillis),
          ),
        );
      } else {
        sends.push(this.send(batch, exportTimeoutMillis));
      }
    }
    return (sends.length === 1 ? sends[0] : Promise.all(sends)).then(nothing, nothing);
  }

  private send(batch: ReadableSpan[], timeoutMillis: number): Promise<unknown> {
    const body = ProtobufTraceSerializer.serializeRequest(batch);
    return body ? this.transport.send(body, timeoutMillis) : DONE;
  }
}
