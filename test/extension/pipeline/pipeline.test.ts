/** The pipeline hands staged data to exporters early under load, in order, with exact accounting. */
import { describe, expect, it } from 'vitest';
import type { Exporter, ExporterCounterRow } from '../../../extension-src/contracts/exporter.js';
import type { OtlpPayload } from '../../../extension-src/contracts/payload.js';
import { decodeRequest, encodeRequest } from '../../../extension-src/otlp/proto.js';
import type { Signal } from '../../../extension-src/otlp/types.js';
import { Pipeline } from '../../../extension-src/pipeline/pipeline.js';
import { createLogger } from '../../../extension-src/self-telemetry/log.js';
import { SelfMetrics } from '../../../extension-src/self-telemetry/metrics.js';

function logs(first: number, n: number): OtlpPayload {
  const logRecords = Array.from({ length: n }, (_, i) => ({ body: { stringValue: `line ${first + i}` } }));
  return {
    signal: 'logs',
    bytes: encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords }] }] }),
    items: n,
  };
}

/** An exporter that keeps what it is given, bounded like the real ones, and delivers it at flush. */
class KeepingExporter implements Exporter {
  readonly name = 'keeping';
  readonly received: OtlpPayload[] = [];
  delivered = 0;
  constructor(readonly signals: readonly Signal[]) {}
  enqueue(payload: OtlpPayload): void {
    this.received.push(payload);
  }
  pendingItems(): number {
    return this.received.reduce((n, p) => n + p.items, 0) - this.delivered;
  }
  async flush(): Promise<void> {
    this.delivered = this.received.reduce((n, p) => n + p.items, 0);
  }
  async shutdown(): Promise<void> {}
  counterRows(): ExporterCounterRow[] {
    return [];
  }
  lines(): string[] {
    return this.received.flatMap((p) =>
      (
        decodeRequest('logs', p.bytes) as {
          resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[];
        }
      ).resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords.map((l) => l.body.stringValue))),
    );
  }
}

function setup(maxItems: number) {
  const exporter = new KeepingExporter(['logs']);
  const self = new SelfMetrics();
  const pipeline = new Pipeline({
    exporters: [exporter],
    limits: { maxBytes: 4 * 1024 * 1024, maxItems },
    self,
    log: createLogger('error', () => {}),
  });
  const accounted = () => {
    const snap = self.snapshot();
    const dropped = Object.values(snap.pipelineDropped.logs).reduce((a, b) => a + b, 0);
    const handed = exporter.received.reduce((n, p) => n + p.items, 0);
    return { received: snap.received.logs.function, handed, dropped, staged: pipeline.stagedItems() };
  };
  return { exporter, pipeline, accounted };
}

describe('Pipeline', () => {
  it('holds small amounts until a flush, as batches', async () => {
    const { exporter, pipeline, accounted } = setup(1_000);
    for (let i = 0; i < 5; i++) pipeline.accept(logs(i * 10, 10));
    expect(exporter.received).toHaveLength(0);
    expect(pipeline.stagedItems()).toBe(50);
    await pipeline.flush(Date.now() + 1_000, { trigger: 'invocation' });
    expect(exporter.received).toHaveLength(1);
    expect(exporter.lines()).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
    expect(accounted()).toEqual({ received: 50, handed: 50, dropped: 0, staged: 0 });
    expect(pipeline.pendingItems()).toBe(0);
  });

  it('hands data to the exporters before a flush once a quarter of the item bound is staged, so nothing overflows', async () => {
    const { exporter, pipeline, accounted } = setup(1_000);
    // Four times the buffer's bound arrives between two flushes.
    for (let i = 0; i < 400; i++) pipeline.accept(logs(i * 10, 10));
    expect(exporter.received.length).toBeGreaterThan(0);
    const before = accounted();
    expect(before.dropped).toBe(0);
    expect(before.staged).toBeLessThan(250);
    expect(before.received).toBe(before.handed + before.staged);
    // Each early hand-off is one concatenated request, not one per payload.
    expect(exporter.received.length).toBeLessThanOrEqual(4_000 / 250);
    await pipeline.flush(Date.now() + 1_000, { trigger: 'invocation' });
    expect(accounted()).toEqual({ received: 4_000, handed: 4_000, dropped: 0, staged: 0 });
    expect(exporter.lines()).toEqual(Array.from({ length: 4_000 }, (_, i) => `line ${i}`));
  });

  it('counts data for a signal no exporter takes as dropped, early or at a flush', async () => {
    const exporter = new KeepingExporter(['traces']);
    const self = new SelfMetrics();
    const pipeline = new Pipeline({
      exporters: [exporter],
      limits: { maxBytes: 4 * 1024 * 1024, maxItems: 100 },
      self,
      log: createLogger('error', () => {}),
    });
    for (let i = 0; i < 12; i++) pipeline.accept(logs(i * 10, 10));
    await pipeline.flush(Date.now() + 1_000, { trigger: 'invocation' });
    expect(self.snapshot().pipelineDropped.logs).toEqual({ no_exporter: 120 });
    expect(exporter.received).toHaveLength(0);
  });

  it('keeps data arriving after SHUTDOWN staged, to be counted at exit', async () => {
    const { exporter, pipeline, accounted } = setup(100);
    await pipeline.shutdown(Date.now() + 1_000);
    for (let i = 0; i < 5; i++) pipeline.accept(logs(i * 10, 10));
    expect(exporter.received).toHaveLength(0);
    pipeline.abandonStaged();
    expect(accounted()).toEqual({ received: 50, handed: 0, dropped: 50, staged: 0 });
  });
});
