/**
 * The remote write exporter at AMP's quotas, against real Cortex with AMP's
 * limits (a tenant per test plays the workspace; a quota that must bite at a
 * test's scale is lowered for that tenant only). What Cortex would refuse the
 * extension either avoids sending or counts as dropped with Cortex's reason;
 * what Cortex stored is counted through its own query API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRemoteWriteOptions } from '../../extension-src/exporters/prometheus-remote-write/config.js';
import {
  type RemoteWriteCounters,
  RemoteWriteExporter,
} from '../../extension-src/exporters/prometheus-remote-write/exporter.js';
import { BackendHealth } from '../../extension-src/exporters/transport/retrying.js';
import { encodeRequest } from '../../extension-src/otlp/proto.js';
import type { KeyValue } from '../../extension-src/otlp/types.js';
import { createLogger } from '../../extension-src/self-telemetry/log.js';
import { CortexServer, cortexBinary } from '../support/cortex.js';

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;
const text = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** One OTLP request: gauge `name` with one point per attribute set, all at `timeMs`, values 1, 2, 3, ... */
function gauge(name: string, timeMs: number, points: KeyValue[][], instance = 'env-1'): Uint8Array {
  return encodeRequest('metrics', {
    resourceMetrics: [
      {
        resource: { attributes: [text('service.name', 'quota'), text('service.instance.id', instance)] },
        scopeMetrics: [
          {
            metrics: [
              {
                name,
                gauge: {
                  dataPoints: points.map((attributes, i) => ({
                    timeUnixNano: ns(timeMs),
                    asDouble: i + 1,
                    attributes,
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

const workers = (n: number, from = 0) => Array.from({ length: n }, (_, i) => [text('worker', `w${from + i}`)]);
const droppedTotal = (stats: RemoteWriteCounters) => Object.values(stats.samplesDropped).reduce((a, b) => a + b, 0);

const binary = cortexBinary();

describe.skipIf(!binary)("remote write at AMP's quotas, against Cortex", () => {
  let cortex: CortexServer;

  beforeAll(async () => {
    cortex = (await CortexServer.start({
      tenants: {
        'series-limit': { max_global_series_per_user: 5 },
        'rate-limit': { ingestion_rate: 100, ingestion_burst_size: 200 },
      },
    })) as CortexServer;
  }, 120_000);

  afterAll(async () => {
    await cortex?.stop();
  });

  function exporter(tenant: string, env: Record<string, string> = {}, logs: string[] = []): RemoteWriteExporter {
    const parsed = parseRemoteWriteOptions({
      ...cortex.tenant(tenant).exporterEnv,
      OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
      ...env,
    });
    if (!parsed.options) throw new Error(parsed.warnings.join('\n'));
    return new RemoteWriteExporter(parsed.options, {
      log: createLogger('debug', (line) => logs.push(line)),
      retry: { initialMs: 50 },
      health: new BackendHealth(0, 0),
    });
  }

  /** How many of the gauge's series Cortex holds at `timeMs`. */
  async function stored(tenant: string, name: string, timeMs: number): Promise<number> {
    return (await cortex.query(tenant, name, timeMs / 1000)).length;
  }

  it('a request with one series over the label size quota: Cortex stores the rest, the extension counts exactly the one', async () => {
    const tenant = 'label-size';
    const logs: string[] = [];
    // The extension's own guard off, so the series reaches Cortex.
    const rw = exporter(tenant, { OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES: '1000000' }, logs);
    const t = Date.now() - 5_000;
    const wide = [...Array.from({ length: 8 }, (_, i) => text(`k${i}`, 'x'.repeat(1000))), text('worker', 'wide')];
    rw.enqueue({ signal: 'metrics', bytes: gauge('label_size', t, [...workers(40), wide]), items: 41 });
    await rw.flush(Date.now() + 20_000);
    expect(rw.stats()).toMatchObject({ samplesSent: 40, samplesDropped: { rejected_label_limit: 1 } });
    expect(await stored(tenant, 'label_size', t)).toBe(40);
    expect(logs.join('\n')).toMatch(/rejected_label_limit: HTTP 400 .*labels size bytes exceeded .*limit: 7168/);

    // At SHUTDOWN no staleness marker for the refused series: every marker is stored, nothing more refused.
    await rw.shutdown(Date.now() + 20_000);
    expect(rw.stats()).toMatchObject({
      staleMarkersSent: 40,
      staleMarkersDropped: 0,
      samplesDropped: { rejected_label_limit: 1 },
    });
    expect(await stored(tenant, 'label_size', Date.now() + 1)).toBe(0);
  });

  it('with the default guard the same series is dropped before sending, counted, and Cortex refuses nothing', async () => {
    const tenant = 'label-size-guarded';
    const rw = exporter(tenant);
    const t = Date.now() - 5_000;
    const wide = [...Array.from({ length: 8 }, (_, i) => text(`k${i}`, 'x'.repeat(1000))), text('worker', 'wide')];
    // Over the label count quota too: 71 labels with __name__, job and instance.
    const many = Array.from({ length: 68 }, (_, i) => text(`a${i}`, 'v'));
    // A value over Cortex's 2,048 bytes is shortened (prefix and hash), so the series is kept.
    const long = [text('worker', 'long'), text('detail', 'y'.repeat(5000))];
    rw.enqueue({ signal: 'metrics', bytes: gauge('guarded', t, [...workers(3), wide, many, long]), items: 6 });
    await rw.flush(Date.now() + 20_000);
    expect(rw.stats()).toMatchObject({
      samplesSent: 4,
      samplesDropped: { labels_too_large: 1, translation_too_many_labels: 1 },
      labelValuesShortened: 1,
    });
    expect(await stored(tenant, 'guarded', t)).toBe(4);
    await rw.shutdown(Date.now() + 20_000);
    expect(rw.stats()).toMatchObject({ staleMarkersSent: 4, staleMarkersDropped: 0 });
  });

  it('over the series limit: what Cortex refuses is counted once, never retried, and the stored series end stale', async () => {
    const tenant = 'series-limit';
    const rw = exporter(tenant);
    const t = Date.now() - 5_000;
    rw.enqueue({ signal: 'metrics', bytes: gauge('limited', t, workers(8)), items: 8 });
    await rw.flush(Date.now() + 20_000);
    const stats = rw.stats();
    expect(stats.samplesSent).toBe(5);
    expect(stats.samplesDropped).toEqual({ rejected_series_limit: 3 });
    expect(stats.requestsRetried).toBe(0);
    expect(await stored(tenant, 'limited', t)).toBe(5);
    await rw.shutdown(Date.now() + 20_000);
    expect(rw.stats()).toMatchObject({ staleMarkersSent: 5, staleMarkersDropped: 0 });
    expect(await stored(tenant, 'limited', Date.now() + 1)).toBe(0);
  });

  it('two environments: separate series by default; collapsed by the user, the out-of-order samples are counted, not retried', async () => {
    const tenant = 'two-environments';
    const t = Date.now() - 5_000;
    const [a, b] = [exporter(tenant), exporter(tenant)];
    a.enqueue({ signal: 'metrics', bytes: gauge('shared', t + 100, workers(2), 'env-a'), items: 2 });
    b.enqueue({ signal: 'metrics', bytes: gauge('shared', t, workers(2), 'env-b'), items: 2 });
    await a.flush(Date.now() + 20_000);
    await b.flush(Date.now() + 20_000);
    expect(a.stats().samplesDropped).toEqual({});
    expect(b.stats().samplesDropped).toEqual({});
    expect(await stored(tenant, 'shared', t + 100)).toBe(4);

    // Two environments the user gave the same service.instance.id: one series per worker for both.
    const [c, d] = [exporter(tenant), exporter(tenant)];
    c.enqueue({ signal: 'metrics', bytes: gauge('collapsed', t + 100, workers(2), 'prod'), items: 2 });
    d.enqueue({ signal: 'metrics', bytes: gauge('collapsed', t, workers(3), 'prod'), items: 3 });
    await c.flush(Date.now() + 20_000);
    await d.flush(Date.now() + 20_000);
    expect(c.stats()).toMatchObject({ samplesSent: 2, samplesDropped: {} });
    expect(d.stats()).toMatchObject({
      samplesSent: 1,
      samplesDropped: { rejected_out_of_order: 2 },
      requestsRetried: 0,
    });
    expect(await stored(tenant, 'collapsed', t + 100)).toBe(3);
  });

  it('at the ingestion rate quota: requests cut to the rate, every sample stored or dropped as rate_limited, one log line', async () => {
    const tenant = 'rate-limit';
    const logs: string[] = [];
    const rw = exporter(tenant, {}, logs);
    const start = Date.now() - 60_000;
    let queued = 0;
    // Ten invocations of 150 series each: 1,500 samples against 100 samples/s with a burst of 200.
    for (let invocation = 0; invocation < 10; invocation++) {
      rw.enqueue({ signal: 'metrics', bytes: gauge('rated', start + invocation * 1000, workers(150)), items: 150 });
      queued += 150;
      await rw.flush(Date.now() + 1_000);
    }
    await rw.shutdown(Date.now() + 2_000);
    const stats = rw.stats();
    expect(stats.samplesQueued).toBe(queued);
    expect(stats.samplesSent + droppedTotal(stats)).toBe(queued);
    expect(Object.keys(stats.samplesDropped).filter((r) => r !== 'rate_limited')).toEqual([]);
    expect(stats.samplesSent).toBeGreaterThan(0);
    const count = await cortex.value(tenant, `count(count_over_time(rated[2m]))`, Date.now() / 1000);
    expect(count).toBe(150);
    const samples = await cortex.value(tenant, `sum(count_over_time(rated[2m]))`, (start + 9_500) / 1000);
    expect(samples).toBe(stats.samplesSent);
    // What the user sees: one line saying what happened and what to change (and one per kind of drop).
    expect(logs.filter((l) => l.includes('requests are cut to at most 100 samples'))).toHaveLength(1);
    if (stats.samplesDropped.rate_limited) {
      expect(logs).toContainEqual(
        expect.stringMatching(/dropped \d+ sample\(s\), rate_limited: .*raise the workspace/),
      );
    }
  });
});
