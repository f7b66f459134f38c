/**
 * Short versions of `npm run load` and `npm run soak` (seconds, not minutes):
 * sandboxed environments with the real extension plus simulated functions
 * writing into a real Prometheus, every sample counted back with PromQL; and
 * one environment through 200 frozen invocations with its memory sampled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLoad } from '../../scripts/load.js';
import { runSoak } from '../../scripts/soak.js';
import { findBinary, requireBinary } from '../support/binaries.js';
import { buildTestLayer } from '../support/extension-layer.js';
import { PrometheusServer } from '../support/prometheus.js';

const available = findBinary('prometheus') !== undefined || requireBinary('prometheus') !== undefined;

describe.skipIf(!available)('load and soak, short', () => {
  let prom: PrometheusServer;
  let root: string;
  let layerDir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'observed-scale-'));
    const [server, built] = await Promise.all([PrometheusServer.start(), buildTestLayer(root)]);
    prom = server as PrometheusServer;
    layerDir = built.layerDir;
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('load: 2 sandboxed + 48 simulated functions for 4 s, zero samples lost by PromQL count', async () => {
    const report = await runLoad(prom, { functions: 50, rate: 3_000, seconds: 4, envs: 2, layerDir });
    console.log(JSON.stringify(report));
    expect(report.envInvocations).toBeGreaterThan(0);
    expect(report.envFailures).toBe(0);
    expect(report.failedRequests).toBe(0);
    expect(report.sentSamples).toBeGreaterThan(0);
    expect(report.arrivedSamples).toBe(report.sentSamples);
  });

  it('soak: 200 invocations with freezes, everything arrives, memory sampled', async () => {
    const report = await runSoak(prom, { invocations: 200, series: 10, pauseEvery: 100, pauseMs: 500, layerDir });
    const { memory, ...summary } = report;
    console.log(JSON.stringify(summary));
    expect(report.failures).toBe(0);
    expect(report.arrived).toBe(report.sent);
    expect(report.sent).toBe(2_000);
    expect(memory.length).toBeGreaterThan(10);
    expect(report.freezes).toBeGreaterThanOrEqual(200);
    // A bound, not a tight figure: the extension stays far below a 128 MB function's memory.
    expect(report.rssLastKb).toBeLessThan(128 * 1024);
  });
});
