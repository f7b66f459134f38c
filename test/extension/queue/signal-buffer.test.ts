/** Bounded per-signal buffers: drop-oldest accounting and zero-decode batching. */
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../extension-src/otlp/proto.js';
import { SignalBuffer } from '../../../extension-src/queue/signal-buffer.js';

function logs(text: string, n: number) {
  const logRecords = Array.from({ length: n }, (_, i) => ({ body: { stringValue: `${text} ${i}` } }));
  return {
    signal: 'logs' as const,
    bytes: encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords }] }] }),
    items: n,
  };
}

describe('SignalBuffer', () => {
  it('keeps the newest data within the item bound and reports what it dropped', () => {
    const drops: number[] = [];
    const buffer = new SignalBuffer('logs', { maxBytes: 1 << 20, maxItems: 5 }, (items) => drops.push(items));
    buffer.push(logs('a', 2));
    buffer.push(logs('b', 2));
    buffer.push(logs('c', 3));
    expect(buffer.items).toBe(5);
    expect(drops).toEqual([2]);
    buffer.push(logs('huge', 6));
    expect(drops).toEqual([2, 6]);
    expect(buffer.items).toBe(5);
  });

  it('keeps within the byte bound', () => {
    const one = logs('x', 1);
    const drops: number[] = [];
    const buffer = new SignalBuffer('logs', { maxBytes: one.bytes.length * 2, maxItems: 100 }, (i) => drops.push(i));
    for (let i = 0; i < 5; i++) buffer.push(logs('x', 1));
    expect(buffer.length).toBe(2);
    expect(buffer.bytes).toBe(one.bytes.length * 2);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('concatenates queued requests into one valid request, oldest first, up to a size', () => {
    const buffer = new SignalBuffer('logs', { maxBytes: 1 << 20, maxItems: 100 }, () => {});
    buffer.push(logs('a', 1), 10);
    buffer.push(logs('b', 2), 20);
    buffer.push(logs('c', 1), 30);
    expect(buffer.oldestMs()).toBe(10);
    const size = logs('a', 1).bytes.length + logs('b', 2).bytes.length;
    const batch = buffer.takeBatch(size)!;
    expect(batch.items).toBe(3);
    expect(batch.receivedAtMs).toBe(10);
    const bodies = decodeRequest('logs', batch.bytes).resourceLogs!.flatMap((r) =>
      r.scopeLogs!.flatMap((s) => s.logRecords!.map((l) => l.body?.stringValue)),
    );
    expect(bodies).toEqual(['a 0', 'b 0', 'b 1']);
    expect(buffer.items).toBe(1);
    expect(buffer.oldestMs()).toBe(30);
  });

  it('puts an undelivered batch back in front', () => {
    const buffer = new SignalBuffer('logs', { maxBytes: 1 << 20, maxItems: 100 }, () => {});
    buffer.push(logs('a', 1), 1);
    buffer.push(logs('b', 1), 2);
    const first = buffer.takeBatch(1)!;
    buffer.unshift(first);
    expect(buffer.takeBatch()!.items).toBe(2);
    expect(buffer.length).toBe(0);
  });
});
