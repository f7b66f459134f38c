/**
 * With OBSERVED_TELEMETRY_TYPES=none nothing but the function's flushed notice
 * says an invocation is over. In the sandbox: the first invocation's data is
 * delivered before the environment freezes, and a function that crashes before
 * its notice leaves the extension free to take the reset's SHUTDOWN and exit
 * in time, flushing what the crashed run sent.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { accounting, exitTotals, removeTestLayer, SAMPLE_FUNCTION_DIR, testLayer } from '../support/extension-layer.js';
import { OtlpSink } from '../support/otlp-sink.js';

describe('extension without platform events', () => {
  let layerDir: string;
  let codeDir: string;
  beforeAll(async () => {
    layerDir = (await testLayer()).layerDir;
    // The sample function, plus a way to crash after its telemetry went out but before its notice.
    codeDir = mkdtempSync(join(tmpdir(), 'observed-crashing-fn-'));
    writeFileSync(
      join(codeDir, 'index.js'),
      `const sample = require(${JSON.stringify(join(SAMPLE_FUNCTION_DIR, 'index.js'))});
exports.handler = async (event, context) => {
  if (!event.crash) return sample.handler(event, context);
  await sample.handler({ ...event, notice: false }, context);
  process.exit(3);
};
`,
    );
  });
  afterAll(() => {
    removeTestLayer();
    rmSync(codeDir, { recursive: true, force: true });
  });

  it('delivers the first invocation before the environment freezes', async () => {
    const sink = await new OtlpSink().start();
    const env = await LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir,
      layers: [layerDir],
      env: { OBSERVED_OTLP_ENDPOINT: sink.url, OBSERVED_TELEMETRY_TYPES: 'none' },
    });
    try {
      const result = await env.invoke({ spans: 3, points: 1, logs: 1 });
      expect(result.status).toBe('success');
      await env.waitFor((e) => e.type === 'freeze');
      // Frozen now: only what was flushed before /next can have arrived.
      await new Promise((r) => setTimeout(r, 300));
      const produced = result.result as { spanIds: string[] };
      const spanIds = sink.spans().map((s) => Buffer.from((s as { spanId: Uint8Array }).spanId).toString('hex'));
      expect(spanIds).toEqual(expect.arrayContaining(produced.spanIds));
    } finally {
      await env.shutdown().catch(() => {});
      await sink.stop();
    }
  });

  it('a Telemetry API that answers 202 Telemetry.NotSupported (as RIE does): one line, then no wait for runtimeDone', async () => {
    const sink = await new OtlpSink().start();
    // No OBSERVED_TELEMETRY_TYPES: the extension asks for platform events, which never come.
    const env = await LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir,
      layers: [layerDir],
      timeoutMs: 10_000,
      telemetryApi: false,
      env: { OBSERVED_OTLP_ENDPOINT: sink.url },
    });
    try {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await env.invoke({ spans: 2, notice: false }));
      expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success']);
      // Waiting for a runtimeDone that never comes lasts until the deadline (9.95 s here); the first invocation
      // waits at most for a flushed notice (1 s), the later ones not at all once none came.
      for (const r of results) expect(r.durationMs).toBeLessThan(5_000);
      const refusals = env
        .stdout('observed-lambda')
        .split('\n')
        .filter((l) => l.includes('Telemetry.NotSupported'));
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toContain('WARN');
      expect(refusals[0]).toContain('OBSERVED_TELEMETRY_TYPES=none');
      await env.shutdown();
      const traces = accounting(exitTotals(env.stdout('observed-lambda'))!, 'traces');
      expect(traces.received).toBe(6);
      expect(traces.exported).toBe(6);
    } finally {
      await env.shutdown().catch(() => {});
      await sink.stop();
    }
  });

  it('a function that crashes before its notice: the extension takes the SHUTDOWN, flushes and exits in time', async () => {
    const sink = await new OtlpSink().start();
    const env = await LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir,
      layers: [layerDir],
      timeoutMs: 60_000,
      env: { OBSERVED_OTLP_ENDPOINT: sink.url, OBSERVED_TELEMETRY_TYPES: 'none' },
    });
    try {
      expect((await env.invoke({ spans: 2 })).status).toBe('success');
      const crashed = await env.invoke({ spans: 2, crash: true });
      expect(crashed.status).toBe('failure');
      // The crash reset the environment: SHUTDOWN (reason failure) went to the extension, which exited in time.
      const reset = env.events.find(
        (e) => e.type === 'shutdown.done' && (e.data as { reason?: string })?.reason === 'failure',
      );
      const result = reset?.data as { extensionsExitedInTime?: boolean; killed?: string[] } | undefined;
      expect(result?.extensionsExitedInTime).toBe(true);
      expect(result?.killed ?? []).not.toContain('observed-lambda');
      const totals = exitTotals(env.stdout('observed-lambda'))!;
      const traces = accounting(totals, 'traces');
      expect(traces.received).toBe(4);
      expect(traces.exported).toBe(4);
    } finally {
      await env.shutdown().catch(() => {});
      await sink.stop();
    }
  });
});
