/**
 * The OTLP/HTTP exporter against the test OTLP backend (official protos):
 * batching by concatenation, protobuf and JSON, gzip, headers, retries with
 * Retry-After inside the deadline, drops of refused batches, partial success,
 * the queue bound, the cool-down of a failing backend and the SHUTDOWN path.
 * Every item ends up delivered, queued or counted dropped.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OtlpExporterConfig } from '../../../extension-src/exporters/otlp-http/config.js';
import { OtlpHttpExporter } from '../../../extension-src/exporters/otlp-http/exporter.js';
import { encodeRequest } from '../../../extension-src/otlp/proto.js';
import type { Signal } from '../../../extension-src/otlp/types.js';
import { createLogger } from '../../../extension-src/self-telemetry/log.js';
import { OtlpSink } from '../../support/otlp-sink.js';

/** A traces request of `n` spans named `<prefix> <i>`. */
function spans(prefix: string, n: number) {
  const list = Array.from({ length: n }, (_, i) => ({
    traceId: Buffer.alloc(16, 1),
    spanId: Buffer.from(`${prefix.padEnd(4, '_').slice(0, 4)}${String(i).padStart(4, '0')}`),
    name: `${prefix} ${i}`,
    startTimeUnixNano: 1,
    endTimeUnixNano: 2,
  }));
  const bytes = encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: list }] }] });
  return { signal: 'traces' as Signal, bytes, items: n };
}

function config(url: string, overrides: Partial<OtlpExporterConfig> = {}): OtlpExporterConfig {
  return {
    urls: {
      traces: new URL(`${url}/v1/traces`),
      metrics: new URL(`${url}/v1/metrics`),
      logs: new URL(`${url}/v1/logs`),
    },
    protocol: 'http/protobuf',
    headers: {},
    compression: 'none',
    timeoutMs: 2_000,
    maxRequestBytes: 1024 * 1024,
    ...overrides,
  };
}

const FAST = { initialMs: 10, maxMs: 50 };

describe('OTLP/HTTP exporter', () => {
  let sink: OtlpSink;
  const lines: string[] = [];
  const log = createLogger('info', (line) => lines.push(line));
  const bounds = { maxBytes: 1024 * 1024, maxItems: 10_000 };

  beforeEach(async () => {
    sink = await new OtlpSink().start();
    lines.length = 0;
  });
  afterEach(() => sink.stop());

  const names = () => sink.spans().map((s) => s.name);
  const traceCounters = (e: OtlpHttpExporter) => e.counterRows().find((c) => c.signal === 'traces')!;

  it('sends everything queued for a signal as one request, protobuf, with the configured headers', async () => {
    const exporter = new OtlpHttpExporter(config(sink.url, { headers: { 'x-api-key': 'k1' } }), { log, bounds });
    exporter.enqueue(spans('a', 2));
    exporter.enqueue(spans('b', 3));
    expect(exporter.pendingItems()).toBe(5);
    await exporter.flush(Date.now() + 2_000);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0].contentType).toBe('application/x-protobuf');
    expect(sink.received[0].headers['x-api-key']).toBe('k1');
    expect(names()).toEqual(['a 0', 'a 1', 'b 0', 'b 1', 'b 2']);
    expect(exporter.pendingItems()).toBe(0);
    expect(traceCounters(exporter)).toMatchObject({ exported: 5, retried: 0, dropped: {} });
  });

  it('sends OTLP/JSON with gzip when configured', async () => {
    const exporter = new OtlpHttpExporter(config(sink.url, { protocol: 'http/json', compression: 'gzip' }), {
      log,
      bounds,
    });
    exporter.enqueue(spans('j', 2));
    await exporter.flush(Date.now() + 2_000);
    expect(sink.received[0].contentType).toBe('application/json');
    expect(sink.received[0].headers['content-encoding']).toBe('gzip');
    const json = sink.received[0].request as unknown as {
      resourceSpans: { scopeSpans: { spans: { name: string; spanId: string }[] }[] }[];
    };
    const sent = json.resourceSpans[0].scopeSpans[0].spans;
    expect(sent.map((s) => s.name)).toEqual(['j 0', 'j 1']);
    expect(sent[0].spanId).toBe(Buffer.from('j___0000').toString('hex'));
  });

  it('splits what is queued into requests below maxRequestBytes', async () => {
    const one = spans('s0', 1);
    const exporter = new OtlpHttpExporter(config(sink.url, { maxRequestBytes: one.bytes.length * 2 }), { log, bounds });
    for (let i = 0; i < 5; i++) exporter.enqueue(spans(`s${i}`, 1));
    await exporter.flush(Date.now() + 2_000);
    expect(sink.received.length).toBe(3);
    expect(names()).toEqual(['s0 0', 's1 0', 's2 0', 's3 0', 's4 0']);
  });

  it('retries 503 and honours Retry-After, then delivers', async () => {
    const seen: number[] = [];
    sink.fault = (_signal, attempt) => {
      seen.push(Date.now());
      return attempt <= 2 ? { status: 503, headers: { 'retry-after': '0.2' } } : undefined;
    };
    const exporter = new OtlpHttpExporter(config(sink.url), { log, bounds, retry: FAST });
    exporter.enqueue(spans('r', 4));
    await exporter.flush(Date.now() + 3_000);
    expect(names()).toEqual(['r 0', 'r 1', 'r 2', 'r 3']);
    expect(seen).toHaveLength(3);
    expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(190);
    expect(traceCounters(exporter)).toMatchObject({ exported: 4, retried: 8, dropped: {} });
  });

  it('keeps the batch queued when the deadline comes first, and delivers it at a later flush', async () => {
    sink.fault = () => ({ status: 429, headers: { 'retry-after': '1' } });
    const exporter = new OtlpHttpExporter(config(sink.url), { log, bounds, retry: FAST });
    exporter.enqueue(spans('d', 3));
    const started = Date.now();
    await exporter.flush(Date.now() + 300);
    expect(Date.now() - started).toBeLessThan(300);
    expect(exporter.pendingItems()).toBe(3);
    expect(lines.some((l) => l.includes('stays queued'))).toBe(true);
    sink.fault = undefined;
    // SHUTDOWN does not wait for the cool-down.
    await exporter.shutdown(Date.now() + 2_000);
    expect(names()).toEqual(['d 0', 'd 1', 'd 2']);
    expect(traceCounters(exporter)).toMatchObject({ exported: 3, dropped: {} });
  });

  it('drops and counts a batch refused with 400, logging once per status', async () => {
    sink.fault = () => ({ status: 400 });
    const exporter = new OtlpHttpExporter(config(sink.url), { log, bounds, retry: FAST });
    exporter.enqueue(spans('x', 2));
    await exporter.flush(Date.now() + 2_000);
    exporter.enqueue(spans('y', 1));
    await exporter.flush(Date.now() + 2_000);
    expect(sink.attempts).toBe(2);
    expect(exporter.pendingItems()).toBe(0);
    expect(traceCounters(exporter)).toMatchObject({ exported: 0, retried: 0, dropped: { http_400: 3 } });
    expect(lines.filter((l) => l.includes('HTTP 400'))).toHaveLength(1);
  });

  it('counts the rejected items of a partial success as dropped', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ partialSuccess: { rejectedSpans: '2', errorMessage: 'two spans too old' } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const exporter = new OtlpHttpExporter(config(url), { log, bounds });
    exporter.enqueue(spans('p', 5));
    await exporter.flush(Date.now() + 2_000);
    expect(traceCounters(exporter)).toMatchObject({ exported: 3, dropped: { partial_success: 2 } });
    expect(lines.some((l) => l.includes('two spans too old'))).toBe(true);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('drops the oldest queued data beyond its bounds and counts it', async () => {
    const exporter = new OtlpHttpExporter(config(sink.url), { log, bounds: { maxBytes: 1024 * 1024, maxItems: 5 } });
    exporter.enqueue(spans('old', 3));
    exporter.enqueue(spans('mid', 2));
    exporter.enqueue(spans('new', 2));
    expect(exporter.pendingItems()).toBe(4);
    await exporter.flush(Date.now() + 2_000);
    expect(names()).toEqual(['mid 0', 'mid 1', 'new 0', 'new 1']);
    expect(traceCounters(exporter)).toMatchObject({ exported: 4, dropped: { queue_full: 3 } });
  });

  it('gives an unreachable backend a cool-down so later flushes return at once, and counts what SHUTDOWN cannot deliver', async () => {
    const url = sink.url;
    await sink.stop();
    const exporter = new OtlpHttpExporter(config(url), { log, bounds, retry: FAST });
    exporter.enqueue(spans('u', 2));
    await exporter.flush(Date.now() + 200);
    expect(exporter.pendingItems()).toBe(2);
    const started = Date.now();
    await exporter.flush(Date.now() + 2_000);
    expect(Date.now() - started).toBeLessThan(100);
    await exporter.shutdown(Date.now() + 200);
    expect(exporter.pendingItems()).toBe(0);
    expect(traceCounters(exporter)).toMatchObject({ exported: 0, dropped: { shutdown: 2 } });
    expect(traceCounters(exporter).retried).toBeGreaterThan(0);
    sink = await new OtlpSink().start();
  });
});
