/**
 * Telemetry API (`PUT /2022-07-01/telemetry`): validates subscriptions with
 * Lambda's ranges and error shape, and delivers events to each subscriber by
 * HTTP POST of JSON arrays, batched by its buffering settings (maxItems,
 * maxBytes, timeoutMs). Delivery pauses while the environment is frozen.
 */
import { request } from 'node:http';
import type { EventLog } from './events-log.js';
import { platform, type TelemetryCategory, type TelemetryEvent } from './telemetry-events.js';

export const BUFFERING = {
  maxItems: { min: 1_000, max: 10_000, default: 10_000 },
  maxBytes: { min: 262_144, max: 1_048_576, default: 262_144 },
  timeoutMs: { min: 25, max: 30_000, default: 1_000 },
} as const;

const SCHEMA_VERSIONS = ['2022-07-01', '2022-12-13', '2025-01-29'];
const CATEGORIES: TelemetryCategory[] = ['platform', 'function', 'extension'];
/** Host names a destination may use; `sandbox.localdomain` is delivered to 127.0.0.1, as in Lambda. */
const LOOPBACK_HOSTS = new Set(['sandbox.localdomain', 'localhost', '127.0.0.1', '[::1]']);
/** Log records queued for a subscriber beyond this many times its maxBytes are dropped (platform.logsDropped). */
const QUEUE_LIMIT_FACTOR = 4;

export interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export interface Subscription {
  types: TelemetryCategory[];
  buffering: Buffering;
  destination: URL;
  schemaVersion: string;
}

export type SubscriptionResult = { ok: true; subscription: Subscription } | { ok: false; errorMessage: string };

/** Checks a subscription body against Lambda's schema; messages name the field and the accepted values. */
export function parseSubscription(body: string): SubscriptionResult {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    return { ok: false, errorMessage: `Invalid JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errorMessage: 'Request body must be a JSON object' };
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.schemaVersion !== 'string' || !SCHEMA_VERSIONS.includes(r.schemaVersion)) {
    return { ok: false, errorMessage: `schemaVersion must be one of ${SCHEMA_VERSIONS.join(', ')}` };
  }
  if (
    !Array.isArray(r.types) ||
    r.types.length === 0 ||
    !r.types.every((t) => CATEGORIES.includes(t as TelemetryCategory))
  ) {
    return { ok: false, errorMessage: `types must be a non-empty array of ${CATEGORIES.join(', ')}` };
  }
  const d = r.destination as Record<string, unknown> | undefined;
  if (typeof d !== 'object' || d === null) return { ok: false, errorMessage: 'destination is required' };
  if (d.protocol !== 'HTTP') {
    return {
      ok: false,
      errorMessage:
        d.protocol === 'TCP'
          ? 'destination.protocol TCP is not supported here; use HTTP'
          : 'destination.protocol must be HTTP or TCP',
    };
  }
  let destination: URL;
  try {
    destination = new URL(String(d.URI));
  } catch {
    return { ok: false, errorMessage: 'destination.URI must be an http:// URI' };
  }
  if (destination.protocol !== 'http:' || !LOOPBACK_HOSTS.has(destination.hostname)) {
    return { ok: false, errorMessage: 'destination.URI must be http://sandbox.localdomain:<port>[/path]' };
  }
  const buffering: Buffering = {
    maxItems: BUFFERING.maxItems.default,
    maxBytes: BUFFERING.maxBytes.default,
    timeoutMs: BUFFERING.timeoutMs.default,
  };
  if (r.buffering !== undefined) {
    if (typeof r.buffering !== 'object' || r.buffering === null) {
      return { ok: false, errorMessage: 'buffering must be an object' };
    }
    const b = r.buffering as Record<string, unknown>;
    for (const key of ['maxItems', 'maxBytes', 'timeoutMs'] as const) {
      const v = b[key];
      if (v === undefined) continue;
      const { min, max } = BUFFERING[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        return { ok: false, errorMessage: `buffering.${key} must be an integer between ${min} and ${max}` };
      }
      buffering[key] = v;
    }
  }
  return {
    ok: true,
    subscription: { types: r.types as TelemetryCategory[], buffering, destination, schemaVersion: r.schemaVersion },
  };
}

interface Queued {
  json: string;
  event: TelemetryEvent;
  queuedMs: number;
}

class Subscriber {
  private queue: Queued[] = [];
  private queuedBytes = 0;
  private droppedRecords = 0;
  private droppedBytes = 0;
  private batchStartMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private paused = false;
  private closed = false;
  /** Resolves whenever a delivery attempt ends; used to drain. */
  private idle: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly subscription: Subscription,
    private readonly log: EventLog,
  ) {}

  wants(category: TelemetryCategory): boolean {
    return this.subscription.types.includes(category);
  }

  push(event: TelemetryEvent, json: string, category: TelemetryCategory): void {
    if (this.closed) return;
    const size = Buffer.byteLength(json);
    // A listener slower than the function's logging loses log records, never platform events.
    if (
      category !== 'platform' &&
      this.queuedBytes + size > QUEUE_LIMIT_FACTOR * this.subscription.buffering.maxBytes
    ) {
      this.droppedRecords++;
      this.droppedBytes += size;
      return;
    }
    if (this.droppedRecords > 0) this.enqueueDropNotice();
    const now = Date.now();
    if (this.queue.length === 0) this.batchStartMs = now;
    this.queue.push({ json, event, queuedMs: now });
    this.queuedBytes += size;
    this.schedule();
  }

  /** Tells the listener, in its own stream, how much was dropped since the last notice. */
  private enqueueDropNotice(): void {
    const notice = platform.logsDropped(
      Date.now(),
      this.droppedRecords,
      this.droppedBytes,
      'Some logs were dropped because the downstream consumer is slower than the logs production rate',
    );
    this.droppedRecords = 0;
    this.droppedBytes = 0;
    this.log.add('telemetry.event', { name: this.name, data: { event: notice } });
    const json = JSON.stringify(notice);
    if (this.queue.length === 0) this.batchStartMs = Date.now();
    this.queue.push({ json, event: notice, queuedMs: Date.now() });
    this.queuedBytes += Buffer.byteLength(json);
  }

  pause(): void {
    this.paused = true;
    this.clearTimer();
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
    this.queue = [];
    this.queuedBytes = 0;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Waits for the delivery in flight, if any. */
  settled(): Promise<void> {
    return this.idle;
  }

  private full(): boolean {
    const b = this.subscription.buffering;
    return this.queue.length >= b.maxItems || this.queuedBytes >= b.maxBytes;
  }

  private schedule(): void {
    if (this.paused || this.closed || this.sending || this.queue.length === 0) return;
    const due = this.batchStartMs + this.subscription.buffering.timeoutMs - Date.now();
    if (this.full() || due <= 0) {
      this.clearTimer();
      this.send();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, due);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends one batch: at most maxItems events and about maxBytes (always at least one event). */
  private send(): void {
    const b = this.subscription.buffering;
    let bytes = 0;
    let count = 0;
    if (this.droppedRecords > 0) this.enqueueDropNotice();
    while (count < this.queue.length && count < b.maxItems) {
      const next = Buffer.byteLength(this.queue[count].json);
      if (count > 0 && bytes + next > b.maxBytes) break;
      bytes += next;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    // The next batch's timeout runs from its own first event.
    if (this.queue.length > 0) this.batchStartMs = this.queue[0].queuedMs;
    this.sending = true;
    const body = `[${batch.map((q) => q.json).join(',')}]`;
    this.idle = this.post(body, 1).then((error) => {
      this.sending = false;
      const events = batch.map((q) => q.event);
      if (error) {
        this.log.add('telemetry.delivery-failed', { name: this.name, data: { count, error, events } });
      } else {
        this.log.add('telemetry.delivery', { name: this.name, data: { count, bytes, events } });
      }
      this.schedule();
    });
  }

  /** POSTs the batch; one retry after a short pause. Resolves with an error message, or undefined on success. */
  private async post(body: string, retries: number): Promise<string | undefined> {
    const error = await postOnce(this.subscription.destination, body);
    if (!error || retries <= 0 || this.closed) return error;
    await new Promise((r) => setTimeout(r, 100));
    return this.post(body, retries - 1);
  }
}

function postOnce(destination: URL, body: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: destination.hostname === '[::1]' ? '::1' : '127.0.0.1',
        port: Number(destination.port || 80),
        path: `${destination.pathname}${destination.search}`,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve(res.statusCode && res.statusCode < 300 ? undefined : `HTTP ${res.statusCode} from the listener`),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('listener did not answer within 30 s')));
    req.on('error', (err) => resolve(err.message));
    req.end(body);
  });
}

export class TelemetryApi {
  private readonly subscribers = new Map<string, Subscriber>();
  /** Events of the current init phase, replayed to extensions that subscribe during it (as Lambda does). */
  private initBacklog: { event: TelemetryEvent; category: TelemetryCategory; json: string }[] | undefined;
  private paused = false;

  constructor(private readonly log: EventLog) {}

  /** Starts a new init phase: subscriptions open, events kept for late subscribers. */
  beginInit(): void {
    this.initBacklog = [];
  }

  /** Ends the init phase: the backlog is no longer needed. */
  endInit(): void {
    this.initBacklog = undefined;
  }

  get subscriptionsOpen(): boolean {
    return this.initBacklog !== undefined;
  }

  subscribe(name: string, subscription: Subscription): void {
    this.subscribers.get(name)?.close();
    const subscriber = new Subscriber(name, subscription, this.log);
    if (this.paused) subscriber.pause();
    this.subscribers.set(name, subscriber);
    for (const b of this.initBacklog ?? [])
      if (subscriber.wants(b.category)) subscriber.push(b.event, b.json, b.category);
  }

  publish(event: TelemetryEvent, category: TelemetryCategory, requestId?: string): void {
    if (category === 'platform') this.log.add('telemetry.event', { requestId, data: { event } });
    const json = JSON.stringify(event);
    this.initBacklog?.push({ event, category, json });
    for (const s of this.subscribers.values()) if (s.wants(category)) s.push(event, json, category);
  }

  pause(): void {
    this.paused = true;
    for (const s of this.subscribers.values()) s.pause();
  }

  resume(): void {
    this.paused = false;
    for (const s of this.subscribers.values()) s.resume();
  }

  get subscriberNames(): string[] {
    return [...this.subscribers.keys()];
  }

  /** Stops delivering to one extension (its process is gone). */
  close(name: string): void {
    this.subscribers.get(name)?.close();
    this.subscribers.delete(name);
  }

  /** Drops every subscriber (their extension processes are gone). */
  closeAll(): void {
    for (const s of this.subscribers.values()) s.close();
    this.subscribers.clear();
    this.initBacklog = undefined;
  }

  /** Waits for deliveries in flight. */
  async settled(): Promise<void> {
    await Promise.all([...this.subscribers.values()].map((s) => s.settled()));
  }
}

/** HTTP handling of `PUT /2022-07-01/telemetry` for a caller already identified as an extension. */
export function subscriptionResponse(
  api: TelemetryApi,
  extensionName: string,
  body: string,
  supported = true,
): { status: number; body: unknown; subscription?: Subscription } {
  // How AWS's Runtime Interface Emulator (sam local, container images run locally) answers: a 2xx status with an
  // error body, and no events ever after.
  if (!supported) {
    return {
      status: 202,
      body: { errorMessage: 'Telemetry API is not supported', errorType: 'Telemetry.NotSupported' },
    };
  }
  if (!api.subscriptionsOpen) {
    return {
      status: 403,
      body: { errorMessage: 'Telemetry API subscription is closed', errorType: 'Telemetry.SubscriptionClosed' },
    };
  }
  const parsed = parseSubscription(body);
  if (!parsed.ok) return { status: 400, body: { errorMessage: parsed.errorMessage, errorType: 'ValidationError' } };
  api.subscribe(extensionName, parsed.subscription);
  return { status: 200, body: 'OK', subscription: parsed.subscription };
}
