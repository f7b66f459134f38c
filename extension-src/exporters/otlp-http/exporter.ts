/**
 * OTLP/HTTP exporter: what the pipeline hands over waits in a bounded queue
 * per signal (bytes and items; the oldest is dropped and counted when full)
 * and a flush sends it as few requests as possible: queued requests of a
 * signal are concatenated as bytes (no decoding) up to `maxRequestBytes`.
 *
 * Delivery rules (OTLP/HTTP specification):
 * - 2xx: delivered; a partial success's rejected items are counted dropped
 *   (reason `partial_success`) and its message is logged once;
 * - 429, 502, 503, 504 and network errors: retried with jittered exponential
 *   backoff or after Retry-After, inside the flush deadline; what does not
 *   make it stays queued, in order, for the next flush;
 * - any other status: the batch is dropped and counted (`http_<status>`),
 *   logged once per status.
 * A backend that keeps failing is given a cool-down (../transport/retrying.ts) so
 * later invocations are not held up by it; SHUTDOWN tries once more
 * regardless, then counts what is left as dropped (`shutdown`).
 */
import { gzipSync } from 'node:zlib';
import type { Exporter, ExporterCounterRow } from '../../contracts/exporter.js';
import type { OtlpPayload } from '../../contracts/payload.js';
import { protobufToJson, responseToJson } from '../../otlp/json.js';
import type { Signal } from '../../otlp/types.js';
import { type BufferBounds, type Queued, SignalBuffer } from '../../queue/signal-buffer.js';
import type { Logger } from '../../self-telemetry/log.js';
import type { ExporterDeps } from '../deps.js';
import { describeError } from '../http.js';
import { SerialFlush } from '../serial-flush.js';
import { OTLP_STATUS } from '../transport/classify.js';
import { BackendHealth, DEFAULT_RETRY, type RetryPolicy, sendWithRetry } from '../transport/retrying.js';
import type { OtlpExporterConfig } from './config.js';

export interface OtlpHttpDeps extends ExporterDeps {
  readonly log: Logger;
  readonly bounds: BufferBounds;
  readonly userAgent?: string;
  readonly now?: () => number;
}

interface SignalState {
  readonly url: URL;
  readonly queue: SignalBuffer;
  readonly health: BackendHealth;
  exported: number;
  retried: number;
  readonly dropped: Record<string, number>;
  /** Items of the batch being sent: still pending until answered. */
  sending: number;
}

type SendResult =
  | { kind: 'delivered'; rejected: number; message?: string }
  | { kind: 'rejected'; status: number; message: string }
  | { kind: 'deferred'; reason: string; notBeforeMs?: number };

const PARTIAL_FIELDS: Record<Signal, string> = {
  traces: 'rejectedSpans',
  metrics: 'rejectedDataPoints',
  logs: 'rejectedLogRecords',
};

export class OtlpHttpExporter implements Exporter {
  readonly name = 'otlp';
  readonly signals: readonly Signal[];
  private readonly state = new Map<Signal, SignalState>();
  private readonly log: Logger;
  private readonly backoff: RetryPolicy;
  private readonly now: () => number;
  /** Each signal's backend has its own health, checked in its round (sendSignal), so none is given here. */
  private readonly rounds = new SerialFlush(
    { coolingDown: () => false },
    (deadlineMs, final) => this.sendAll(deadlineMs, final),
    () => this.hasQueued(),
  );

  constructor(
    readonly config: OtlpExporterConfig,
    private readonly deps: OtlpHttpDeps,
  ) {
    this.log = deps.log.child(this.name);
    this.backoff = { ...DEFAULT_RETRY, ...deps.retry };
    this.now = deps.now ?? Date.now;
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const url = config.urls[signal];
      if (!url) continue;
      const state: SignalState = {
        url,
        queue: new SignalBuffer(signal, deps.bounds, (items) => this.drop(state, 'queue_full', items)),
        health: new BackendHealth(1_000, 30_000, this.now),
        exported: 0,
        retried: 0,
        dropped: {},
        sending: 0,
      };
      this.state.set(signal, state);
    }
    this.signals = [...this.state.keys()];
  }

  enqueue(payload: OtlpPayload): void {
    this.state.get(payload.signal)?.queue.push(payload, this.now());
  }

  pendingItems(): number {
    let n = 0;
    for (const s of this.state.values()) n += s.queue.items + s.sending;
    return n;
  }

  pendingBySignal(): Partial<Record<string, number>> {
    const out: Partial<Record<string, number>> = {};
    for (const [signal, s] of this.state) out[signal] = s.queue.items + s.sending;
    return out;
  }

  /** `final` (the SHUTDOWN path) ignores the cool-down of a backend that failed recently (../serial-flush.ts). */
  flush(deadlineMs: number, options: { final?: boolean } = {}): Promise<void> {
    return this.rounds.flush(deadlineMs, options);
  }

  async shutdown(deadlineMs: number): Promise<void> {
    await this.rounds.flush(deadlineMs, { final: true });
    for (const s of this.state.values()) {
      this.drop(s, 'shutdown', s.queue.clear());
    }
  }

  /** Counters per signal, for the self metrics. */
  counterRows(): ExporterCounterRow[] {
    return [...this.state].map(([signal, s]) => ({
      exporter: this.name,
      signal,
      unit: 'items',
      exported: s.exported,
      retried: s.retried,
      dropped: { ...s.dropped },
    }));
  }

  private hasQueued(): boolean {
    for (const s of this.state.values()) if (s.queue.length > 0) return true;
    return false;
  }

  private async sendAll(deadlineMs: number, final: boolean): Promise<void> {
    await Promise.all([...this.state].map(([signal, s]) => this.sendSignal(signal, s, deadlineMs, final)));
  }

  private async sendSignal(signal: Signal, s: SignalState, deadlineMs: number, final: boolean): Promise<void> {
    if (s.queue.length === 0) return;
    if (!final && s.health.coolingDown()) {
      this.log.debug(`${signal}: backend cooling down; ${s.queue.items} item(s) stay queued`);
      return;
    }
    const maxAttempts = final ? undefined : s.health.attemptsAllowed();
    for (;;) {
      const batch = s.queue.takeBatch(this.config.maxRequestBytes);
      if (!batch) break;
      let result: SendResult;
      s.sending = batch.items;
      try {
        result = await this.send(signal, s, batch, deadlineMs, maxAttempts);
      } catch (error) {
        s.sending = 0;
        // Encoding failed (not expected: the receiver validated the bytes). Drop rather than retry forever.
        this.log.once(`otlp-encode-${signal}`, 'error', `${signal}: cannot encode a batch: ${describeError(error)}`);
        this.drop(s, 'encoding', batch.items);
        continue;
      }
      s.sending = 0;
      if (result.kind === 'deferred') {
        s.queue.unshift(batch);
        s.health.failed(result.notBeforeMs);
        this.log.once(
          `otlp-deferred-${signal}`,
          'warn',
          `${signal}: ${s.url.origin} not reachable (${result.reason}); data stays queued and is retried at later flushes (logged once)`,
        );
        return;
      }
      s.health.succeeded();
      if (result.kind === 'rejected') {
        this.drop(s, `http_${result.status}`, batch.items);
        this.log.once(
          `otlp-rejected-${signal}-${result.status}`,
          'warn',
          `${signal}: ${s.url.href} answered HTTP ${result.status}${result.message ? `: ${result.message}` : ''}; the batch is dropped and counted (logged once per status)`,
        );
        continue;
      }
      const rejected = Math.min(result.rejected, batch.items);
      s.exported += batch.items - rejected;
      if (rejected > 0) this.drop(s, 'partial_success', rejected);
      if (result.message || rejected > 0) {
        this.log.once(
          `otlp-partial-${signal}`,
          'warn',
          `${signal}: partial success, ${rejected} item(s) rejected${result.message ? `: ${result.message}` : ''} (logged once)`,
        );
      }
    }
  }

  private async send(
    signal: Signal,
    s: SignalState,
    batch: Queued,
    deadlineMs: number,
    maxAttempts: number | undefined,
  ): Promise<SendResult> {
    const json = this.config.protocol === 'http/json';
    let body: Uint8Array = json ? Buffer.from(JSON.stringify(protobufToJson(signal, batch.bytes))) : batch.bytes;
    const headers: Record<string, string> = {
      'user-agent': this.deps.userAgent ?? 'observed-lambda',
      ...this.config.headers,
      ...this.deps.extraHeaders?.(),
      'content-type': json ? 'application/json' : 'application/x-protobuf',
    };
    if (this.config.compression === 'gzip') {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    const result = await sendWithRetry(
      { url: s.url, headers: () => headers, body, timeoutMs: this.config.timeoutMs, maxResponseBytes: 64 * 1024 },
      OTLP_STATUS,
      deadlineMs,
      { ...this.backoff, maxAttempts },
      { now: this.now, onRetry: () => (s.retried += batch.items) },
    );
    if (result.outcome === 'delivered') {
      return this.partialSuccess(signal, result.response.body, result.response.headers['content-type']);
    }
    if (result.outcome === 'rejected') return { kind: 'rejected', status: result.status, message: result.message };
    return { kind: 'deferred', reason: result.reason, notBeforeMs: result.notBeforeMs };
  }

  private partialSuccess(signal: Signal, body: Buffer, contentType: string | undefined): SendResult {
    if (body.length === 0) return { kind: 'delivered', rejected: 0 };
    try {
      const parsed = (
        contentType?.includes('json') ? JSON.parse(body.toString('utf8')) : responseToJson(signal, body)
      ) as { partialSuccess?: Record<string, unknown> };
      const partial = parsed.partialSuccess;
      if (!partial) return { kind: 'delivered', rejected: 0 };
      const rejected = Number(partial[PARTIAL_FIELDS[signal]] ?? 0);
      const message = typeof partial.errorMessage === 'string' ? partial.errorMessage : undefined;
      return { kind: 'delivered', rejected: Number.isFinite(rejected) ? rejected : 0, message };
    } catch {
      // A 2xx with a body we cannot read still means delivered.
      return { kind: 'delivered', rejected: 0 };
    }
  }

  private drop(s: SignalState, reason: string, items: number): void {
    if (items <= 0) return;
    s.dropped[reason] = (s.dropped[reason] ?? 0) + items;
  }
}
