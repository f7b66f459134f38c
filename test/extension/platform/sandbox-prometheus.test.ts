/**
 * Platform metrics through the remote write exporter into a real Prometheus:
 * the series hold the counts and durations the sandbox's Telemetry API
 * reported (one cold and warm invocations, an error, a timeout).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusServer } from '../../support/prometheus.js';
import { buildExtensionLayer, startPlatformFunction } from './extension-layer.js';

let prometheus: PrometheusServer | undefined;
let layer: { dir: string; cleanup: () => void } | undefined;

beforeAll(async () => {
  [layer, prometheus] = await Promise.all([buildExtensionLayer(), PrometheusServer.start()]);
});

afterAll(async () => {
  await prometheus?.stop();
  layer?.cleanup();
});

describe('platform metrics in Prometheus', () => {
  it('carries the invocation counts and the reported durations', async (ctx) => {
    if (!prometheus || !layer) return ctx.skip();
    const env = await startPlatformFunction({
      functionName: 'platform-prom',
      layers: [layer.dir],
      timeoutMs: 1_500,
      env: {
        OBSERVED_REMOTE_WRITE_URL: prometheus.remoteWriteUrl,
        OBSERVED_PROMETHEUS_RESOURCE_LABELS: 'faas.name',
      },
    });
    const statuses: string[] = [];
    try {
      for (let i = 0; i < 3; i++) statuses.push((await env.invoke({ mode: 'ok' })).status);
      statuses.push((await env.invoke({ mode: 'fail' })).status);
      statuses.push((await env.invoke({ mode: 'hang' })).status);
    } finally {
      await env.shutdown().catch(() => undefined);
    }
    expect(statuses).toEqual(['success', 'success', 'success', 'error', 'timeout']);
    const reports = env
      .telemetryEvents('platform.report')
      .map((e) => (e.record as { metrics: { durationMs: number } }).metrics.durationMs);
    expect(reports).toHaveLength(5);

    // The exporter ends every series with a staleness marker at SHUTDOWN: read the last real sample.
    const last = async (series: string) => {
      const result = await prometheus!.query(`last_over_time(${series}{faas_name="platform-prom"}[10m])`);
      expect(result, series).toHaveLength(1);
      return Number(result[0].value?.[1]);
    };
    expect(await last('faas_invocations_total')).toBe(3);
    expect(await last('faas_errors_total')).toBe(1);
    expect(await last('faas_timeouts_total')).toBe(1);
    expect(await last('faas_coldstarts_total')).toBe(1);
    expect(await last('faas_invoke_duration_seconds_count')).toBe(5);
    expect(await last('faas_invoke_duration_seconds_sum')).toBeCloseTo(reports.reduce((a, b) => a + b, 0) / 1000, 9);
    const inf = await prometheus.query(
      'last_over_time(faas_invoke_duration_seconds_bucket{faas_name="platform-prom",le="+Inf"}[10m])',
    );
    expect(Number(inf[0]?.value?.[1])).toBe(5);
  });
});
