/**
 * The AMP stand-in (test/reliability/amp-fake.ts: SigV4 and AMP's URL shapes)
 * checked against Cortex's answers: the same faults written through the
 * stand-in over Cortex and to Cortex directly get the same statuses and bodies,
 * so the exporter counts them the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRemoteWriteOptions } from '../../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../../extension-src/exporters/prometheus-remote-write/exporter.js';
import { encodeRequest } from '../../extension-src/otlp/proto.js';
import type { KeyValue } from '../../extension-src/otlp/types.js';
import { createLogger } from '../../extension-src/self-telemetry/log.js';
import { AmpFake } from '../reliability/amp-fake.js';
import { CortexServer, cortexBinary } from '../support/cortex.js';

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;
const text = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIDSTANDIN',
  AWS_SECRET_ACCESS_KEY: 'stand-in-secret',
  AWS_REGION: 'eu-west-1',
};

/** 5 good series, one over the label size quota; then, for the same series, a point older than the first. */
function faults(timeMs: number): Uint8Array[] {
  const wide = [...Array.from({ length: 8 }, (_, i) => text(`k${i}`, 'x'.repeat(1000))), text('worker', 'wide')];
  const points = (t: number, sets: KeyValue[][]) =>
    encodeRequest('metrics', {
      resourceMetrics: [
        {
          resource: { attributes: [text('service.name', 'stand-in')] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'checked',
                  gauge: { dataPoints: sets.map((attributes) => ({ timeUnixNano: ns(t), asDouble: 1, attributes })) },
                },
              ],
            },
          ],
        },
      ],
    });
  const good = Array.from({ length: 5 }, (_, i) => [text('worker', `w${i}`)]);
  return [points(timeMs, [...good, wide]), points(timeMs - 1000, good.slice(0, 2))];
}

describe.skipIf(!cortexBinary())('the AMP stand-in over Cortex answers as Cortex does', () => {
  let cortex: CortexServer;
  let amp: AmpFake;
  const workspaceId = 'ws-5e1f0c2a-7b3d-4c9e-8a6f-1d2e3f4a5b6c';

  beforeAll(async () => {
    cortex = (await CortexServer.start()) as CortexServer;
    amp = await new AmpFake({
      region: CREDENTIALS.AWS_REGION,
      workspaceId,
      prometheusUrl: cortex.url,
      cortex: true,
      secrets: { [CREDENTIALS.AWS_ACCESS_KEY_ID]: CREDENTIALS.AWS_SECRET_ACCESS_KEY },
    }).start();
  }, 120_000);

  afterAll(async () => {
    await amp?.stop();
    await cortex?.stop();
  });

  async function write(env: Record<string, string>, bytes: Uint8Array[]) {
    const parsed = parseRemoteWriteOptions({
      OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
      OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES: '1000000',
      AWS_REGION: CREDENTIALS.AWS_REGION,
      ...env,
    });
    if (!parsed.options) throw new Error(parsed.warnings.join('\n'));
    const logs: string[] = [];
    const rw = new RemoteWriteExporter(parsed.options, {
      log: createLogger('debug', (line) => logs.push(line)),
      env: { ...CREDENTIALS },
    });
    for (const b of bytes) {
      rw.enqueue({ signal: 'metrics', bytes: b, items: 1 });
      await rw.flush(Date.now() + 20_000);
    }
    return { stats: rw.stats(), logs: logs.map((l) => l.replaceAll(/127\.0\.0\.1:\d+/g, 'HOST')) };
  }

  it('a partly refused request, signed, through the stand-in: the same counts and the same refusal text', async () => {
    const t = Date.now() - 5_000;
    const [first] = faults(t);
    const direct = await write(cortex.tenant('direct').exporterEnv, [first]);
    const viaStandIn = await write(
      {
        OBSERVED_REMOTE_WRITE_URL: `${amp.url}/workspaces/${workspaceId}/api/v1/remote_write`,
        OBSERVED_REMOTE_WRITE_SIGV4: 'true',
      },
      [first],
    );
    expect(direct.stats).toMatchObject({ samplesSent: 5, samplesDropped: { rejected_label_limit: 1 } });
    expect(viaStandIn.stats.samplesSent).toBe(direct.stats.samplesSent);
    expect(viaStandIn.stats.samplesDropped).toEqual(direct.stats.samplesDropped);
    expect(viaStandIn.logs).toEqual(direct.logs.map((l) => l.replace('user=direct', `user=${workspaceId}`)));
    expect(amp.requests.filter((r) => r.verdict !== 'ok')).toEqual([]);
    expect(await cortex.value(workspaceId, 'count(checked)', t / 1000)).toBe(5);
  });

  it('out-of-order samples from a second environment: the same 400 through the stand-in as direct', async () => {
    const t = Date.now() - 5_000;
    const [first, older] = faults(t);
    const standIn = {
      OBSERVED_REMOTE_WRITE_URL: `${amp.url}/workspaces/${workspaceId}/api/v1/remote_write`,
      OBSERVED_REMOTE_WRITE_SIGV4: 'true',
    };
    const results = [];
    for (const env of [cortex.tenant('direct-ooo').exporterEnv, standIn]) {
      await write(env, [first]);
      results.push(await write(env, [older]));
    }
    const [direct, viaStandIn] = results;
    expect(direct.stats).toMatchObject({ samplesSent: 0, samplesDropped: { rejected_out_of_order: 2 } });
    expect(viaStandIn.stats.samplesDropped).toEqual(direct.stats.samplesDropped);
  });
});
