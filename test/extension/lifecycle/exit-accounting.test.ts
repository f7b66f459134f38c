/**
 * Exit accounting: what exporters still hold when the process exits shows in
 * their own counter rows as dropped (reason `exit`), so the exit totals and
 * the self counters add up; exporters that already count what they hold from
 * SHUTDOWN on are not counted twice.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Exporter } from '../../../extension-src/contracts/exporter.js';
import { OtlpHttpExporter } from '../../../extension-src/exporters/otlp-http/exporter.js';
import { ExitAccounting } from '../../../extension-src/lifecycle/exit-accounting.js';
import { encodeRequest } from '../../../extension-src/otlp/proto.js';
import type { Signal } from '../../../extension-src/otlp/types.js';
import { createLogger } from '../../../extension-src/self-telemetry/log.js';
import { type ExporterCounterRow, SelfMetrics } from '../../../extension-src/self-telemetry/metrics.js';

function fakeExporter(name: string, signals: Signal[], pending: number): Exporter {
  return {
    name,
    signals,
    enqueue: () => {},
    pendingItems: () => pending,
    flush: async () => {},
    shutdown: async () => {},
    counterRows: (): ExporterCounterRow[] => [
      {
        exporter: name,
        signal: signals.join('+'),
        unit: 'items',
        exported: 10,
        retried: 0,
        dropped: { queue_full: 1 },
      },
    ],
  };
}

function rowOf(self: SelfMetrics, exporter: string, signal: string) {
  return self.snapshot().exporters.find((r) => r.exporter === exporter && r.signal === signal);
}

describe('ExitAccounting', () => {
  it("counts each exporter's pending items as dropped in its own row, once", () => {
    const search = fakeExporter('opensearch', ['logs', 'traces'], 4);
    const remote = fakeExporter('remote-write', ['metrics'], 7);
    const accounting = new ExitAccounting([search, remote]);
    const self = new SelfMetrics();
    self.addSource(accounting.source(() => search.counterRows()));
    self.addSource(accounting.source(() => remote.counterRows()));
    expect(rowOf(self, 'opensearch', 'logs+traces')?.dropped).toEqual({ queue_full: 1 });

    // An exit without SHUTDOWN (the Extensions API failed): nobody counted what is held yet.
    expect(accounting.countHeld(false)).toBe(11);
    expect(accounting.countHeld(false)).toBe(0);
    expect(rowOf(self, 'opensearch', 'logs+traces')?.dropped).toEqual({ queue_full: 1, exit: 4 });
    expect(rowOf(self, 'remote-write', 'metrics')?.dropped).toEqual({ queue_full: 1, exit: 7 });
    expect(rowOf(self, 'remote-write', 'metrics')?.exported).toBe(10);
  });

  it('leaves remote write and Pushgateway to their own shutdown accounting once SHUTDOWN has begun', () => {
    const remote = fakeExporter('remote-write', ['metrics'], 7);
    const push = fakeExporter('pushgateway', ['metrics'], 3);
    const otlp = fakeExporter('otlp', ['logs'], 2);
    const accounting = new ExitAccounting([remote, push, otlp]);
    expect(accounting.countHeld(true)).toBe(2);
  });

  it('counts the OTLP exporter per signal, the batch on the wire included', async () => {
    // A backend that takes the request and never answers: the exporter is mid-send when the process exits.
    const sockets = new Set<Socket>();
    const server = createServer(() => {});
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const exporter = new OtlpHttpExporter(
        {
          urls: { traces: new URL(`${url}/v1/traces`), logs: new URL(`${url}/v1/logs`) },
          protocol: 'http/protobuf',
          headers: {},
          compression: 'none',
          timeoutMs: 5_000,
          maxRequestBytes: 1024 * 1024,
        },
        { log: createLogger('error', () => {}), bounds: { maxBytes: 1024 * 1024, maxItems: 10_000 } },
      );
      const spans = Array.from({ length: 3 }, (_, i) => ({
        traceId: Buffer.alloc(16, 1),
        spanId: Buffer.alloc(8, i + 1),
        name: `s${i}`,
        startTimeUnixNano: 1,
        endTimeUnixNano: 2,
      }));
      exporter.enqueue({
        signal: 'traces',
        bytes: encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] }),
        items: 3,
      });
      const accounting = new ExitAccounting([exporter]);
      const self = new SelfMetrics();
      self.addSource(accounting.source(() => exporter.counterRows()));
      void exporter.flush(Date.now() + 5_000);
      await new Promise((r) => setTimeout(r, 100)); // the request is on the wire now
      expect(exporter.pendingItems()).toBe(3);
      expect(accounting.countHeld(true)).toBe(3);
      expect(rowOf(self, 'otlp', 'traces')?.dropped).toEqual({ exit: 3 });
      expect(rowOf(self, 'otlp', 'logs')?.dropped).toEqual({});
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
