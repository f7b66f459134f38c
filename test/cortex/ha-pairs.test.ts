/**
 * HA pairs against real Cortex: two extensions writing the same series with
 * OBSERVED_PROMETHEUS_EXTERNAL_LABELS naming one `cluster` and each its own
 * `__replica__` are deduplicated by Cortex's HA tracker (AMP deduplicates HA
 * pairs by the same two labels): one replica's samples are stored, the other's
 * are accepted and discarded (202), and neither extension counts a drop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRemoteWriteOptions } from '../../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../../extension-src/exporters/prometheus-remote-write/exporter.js';
import { encodeRequest } from '../../extension-src/otlp/proto.js';
import { silentLogger } from '../../extension-src/self-telemetry/log.js';
import { CortexServer, cortexBinary } from '../support/cortex.js';

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;

function counter(timeMs: number, value: number): Uint8Array {
  return encodeRequest('metrics', {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ha' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'orders',
                sum: {
                  isMonotonic: true,
                  aggregationTemporality: 2,
                  dataPoints: [{ timeUnixNano: ns(timeMs), asDouble: value }],
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

describe.skipIf(!cortexBinary())('HA pairs deduplicated by Cortex', () => {
  let cortex: CortexServer;
  const tenant = 'ha-pairs';

  beforeAll(async () => {
    cortex = (await CortexServer.start()) as CortexServer;
  }, 120_000);

  afterAll(async () => {
    await cortex?.stop();
  });

  function replica(name: string): RemoteWriteExporter {
    const parsed = parseRemoteWriteOptions({
      ...cortex.tenant(tenant).exporterEnv,
      OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
      OBSERVED_PROMETHEUS_EXTERNAL_LABELS: `cluster=orders-ha,__replica__=${name}`,
    });
    if (!parsed.options) throw new Error(parsed.warnings.join('\n'));
    return new RemoteWriteExporter(parsed.options, { log: silentLogger });
  }

  it('keeps one replica of the pair and drops the other without an error', async () => {
    const [a, b] = [replica('a'), replica('b')];
    const t = Date.now() - 10_000;
    for (let i = 0; i < 3; i++) {
      // The same counter observed by both replicas; replica b sees a different value, to tell them apart.
      a.enqueue({ signal: 'metrics', bytes: counter(t + i * 1000, 10 * (i + 1)), items: 1 });
      b.enqueue({ signal: 'metrics', bytes: counter(t + i * 1000 + 1, 10 * (i + 1) + 5), items: 1 });
      await a.flush(Date.now() + 10_000);
      await b.flush(Date.now() + 10_000);
    }
    for (const replicaExporter of [a, b]) {
      expect(replicaExporter.stats()).toMatchObject({ samplesSent: 3, samplesDropped: {} });
    }
    const series = await cortex.query(tenant, 'orders_total', (t + 2_500) / 1000);
    // One series, without the replica label, holding replica a's values only (the first to write is elected).
    expect(series.map((s) => s.metric)).toEqual([{ __name__: 'orders_total', cluster: 'orders-ha', job: 'ha' }]);
    expect(await cortex.value(tenant, 'orders_total', (t + 2_500) / 1000)).toBe(30);
    expect(await cortex.value(tenant, 'count_over_time(orders_total[1m])', (t + 2_500) / 1000)).toBe(3);
  });
});
