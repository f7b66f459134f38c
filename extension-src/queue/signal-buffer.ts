/**
 * A bounded FIFO of encoded OTLP payloads of one signal, limited in bytes and
 * in items (spans, data points, log records). When a new payload would pass
 * a limit, the oldest payloads are dropped and reported to `onDrop`, so the
 * newest data wins and every loss is counted. A payload larger than the limits
 * on its own is dropped at once.
 *
 * Batching without decoding: OTLP export requests of one signal are a single
 * repeated field (number 1), so concatenating their bytes gives one valid
 * request holding all of them. `takeBatch` does that up to a byte size.
 */
import type { OtlpPayload } from '../contracts/payload.js';
import type { Signal } from '../otlp/types.js';

export interface BufferBounds {
  readonly maxBytes: number;
  readonly maxItems: number;
}

export interface Queued extends OtlpPayload {
  /** When it was taken in (epoch ms), for age-based flushing. */
  readonly receivedAtMs: number;
}

export class SignalBuffer {
  private queue: Queued[] = [];
  private head = 0;
  private bytesHeld = 0;
  private itemsHeld = 0;

  constructor(
    readonly signal: Signal,
    private readonly bounds: BufferBounds,
    private readonly onDrop: (items: number, payloads: number) => void,
  ) {}

  get bytes(): number {
    return this.bytesHeld;
  }

  get items(): number {
    return this.itemsHeld;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Epoch ms of the oldest payload held, or undefined when empty. */
  oldestMs(): number | undefined {
    return this.head < this.queue.length ? this.queue[this.head].receivedAtMs : undefined;
  }

  push(payload: OtlpPayload, receivedAtMs = Date.now()): void {
    const { maxBytes, maxItems } = this.bounds;
    if (payload.bytes.length > maxBytes || payload.items > maxItems) {
      this.onDrop(payload.items, 1);
      return;
    }
    let droppedItems = 0;
    let droppedPayloads = 0;
    while (
      this.length > 0 &&
      (this.bytesHeld + payload.bytes.length > maxBytes || this.itemsHeld + payload.items > maxItems)
    ) {
      const oldest = this.shift()!;
      droppedItems += oldest.items;
      droppedPayloads++;
    }
    if (droppedPayloads > 0) this.onDrop(droppedItems, droppedPayloads);
    this.queue.push({ signal: payload.signal, bytes: payload.bytes, items: payload.items, receivedAtMs });
    this.bytesHeld += payload.bytes.length;
    this.itemsHeld += payload.items;
  }

  /** Puts a batch that could not be delivered back at the front (it is the oldest data). */
  unshift(batch: Queued): void {
    if (this.head > 0) this.queue[--this.head] = batch;
    else this.queue.unshift(batch);
    this.bytesHeld += batch.bytes.length;
    this.itemsHeld += batch.items;
    // Newer data already arrived; stay within the bounds by dropping from the front as usual.
    const { maxBytes, maxItems } = this.bounds;
    let droppedItems = 0;
    let droppedPayloads = 0;
    while (this.length > 1 && (this.bytesHeld > maxBytes || this.itemsHeld > maxItems)) {
      droppedItems += this.shift()!.items;
      droppedPayloads++;
    }
    if (droppedPayloads > 0) this.onDrop(droppedItems, droppedPayloads);
  }

  /**
   * Removes the oldest payloads, concatenated into one request of at most
   * `maxBytes` (a single larger payload is returned alone), or undefined when empty.
   */
  takeBatch(maxBytes = Number.POSITIVE_INFINITY): Queued | undefined {
    if (this.length === 0) return undefined;
    const parts: Queued[] = [this.shift()!];
    let size = parts[0].bytes.length;
    while (this.length > 0 && size + this.queue[this.head].bytes.length <= maxBytes) {
      const next = this.shift()!;
      parts.push(next);
      size += next.bytes.length;
    }
    if (parts.length === 1) return parts[0];
    const bytes = new Uint8Array(size);
    let offset = 0;
    let items = 0;
    for (const part of parts) {
      bytes.set(part.bytes, offset);
      offset += part.bytes.length;
      items += part.items;
    }
    return { signal: this.signal, bytes, items, receivedAtMs: parts[0].receivedAtMs };
  }

  /** Removes everything held and returns the items removed; the caller accounts for them. */
  clear(): number {
    const items = this.itemsHeld;
    this.queue = [];
    this.head = 0;
    this.bytesHeld = 0;
    this.itemsHeld = 0;
    return items;
  }

  private shift(): Queued | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head];
    this.queue[this.head] = undefined as unknown as Queued;
    this.head++;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.bytesHeld -= item.bytes.length;
    this.itemsHeld -= item.items;
    return item;
  }
}
