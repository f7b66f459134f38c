/**
 * The layer for runtimes without Node.js (dist/layer-portable/): the
 * extension on its own engine (LLRT) in a sandbox whose extensions can find
 * no node (a trap first on PATH records any run of one). The function itself
 * is Node.js here, as it may be; the other suites run against this layer with
 * `npm run test:portable`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { type BuiltPortableLayer, buildPortableLayer, LLRT_TOOL_DIR } from '../../scripts/build-portable-layer.js';
import { accounting, exitTotals, SAMPLE_FUNCTION_DIR } from '../support/extension-layer.js';
import { OtlpSink } from '../support/otlp-sink.js';
import { requireCachedTool } from '../support/tools.js';

const engine = requireCachedTool(`${LLRT_TOOL_DIR}/bin/llrt`, 'scripts/install/llrt.sh');

describe.skipIf(!engine)('portable layer (LLRT, no Node.js)', () => {
  let root: string;
  let layer: BuiltPortableLayer;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'observed-portable-'));
    layer = (await buildPortableLayer(root)) as BuiltPortableLayer;
  }, 120_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('ships a launcher, the engine, the bundle and the OTLP codec it loads on first use, and nothing that names node', () => {
    const listing = execFileSync('unzip', ['-Z1', layer.zipPath], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual([
      'extensions/',
      'extensions/observed-lambda',
      'observed-lambda/',
      'observed-lambda/extension.lrt',
      'observed-lambda/llrt',
      'observed-lambda/otlp-proto.lrt',
    ]);
    const launcher = readFileSync(join(layer.layerDir, 'extensions', 'observed-lambda'), 'utf8');
    expect(launcher.startsWith('#!/bin/sh\n')).toBe(true);
    expect(launcher).not.toMatch(/\bnode\b/);
    // Bytecode, not source: the engine does not parse the bundle at every start.
    for (const file of ['extension.lrt', 'otlp-proto.lrt']) {
      const bytecode = readFileSync(join(layer.layerDir, 'observed-lambda', file));
      expect(bytecode.subarray(0, 3).toString('latin1')).toBe('lrt');
      expect(bytecode.includes(Buffer.from('function'))).toBe(false);
    }
  });

  it('delivers every span and log record exactly once, runs on the engine and never runs node', async () => {
    const sink = await new OtlpSink().start();
    const env = await LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir: SAMPLE_FUNCTION_DIR,
      layers: [layer.layerDir],
      extensionsWithoutNode: true,
      env: { OBSERVED_OTLP_ENDPOINT: sink.url },
    });
    try {
      // The launcher exec'd the engine: the extension's process image is LLRT itself.
      const pid = env.processInfo.find((p) => p.name === 'observed-lambda')?.pid;
      expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/\/observed-lambda\/llrt$/);
      const spanIds: string[] = [];
      for (let i = 0; i < 20; i++) {
        const result = await env.invoke({ spans: 3, points: 2, logs: 1 });
        expect(result.status).toBe('success');
        spanIds.push(...(result.result as { spanIds: string[] }).spanIds);
      }
      const shutdown = await env.shutdown();
      const extension = shutdown.extensions.find((e) => e.name === 'observed-lambda');
      expect(extension?.exitCode).toBe(0);
      expect(extension?.exitedInTime).toBe(true);

      const received = sink
        .requests('traces')
        .flatMap((r) => r.resourceSpans ?? [])
        .flatMap((r) => r.scopeSpans ?? [])
        .filter((s) => s.scope?.name === 'sample-function')
        .flatMap((s) => s.spans ?? [])
        .map((s) => Buffer.from(s.spanId ?? []).toString('hex'));
      expect(received.sort()).toEqual(spanIds.sort());
      const totals = exitTotals(env.stdout('observed-lambda'));
      expect(totals && accounting(totals, 'logs').dropped).toBe(0);

      const stdout = env.stdout('observed-lambda');
      expect(stdout.match(/OTLP\/gRPC receiver off: this engine has no node:http2/g)).toHaveLength(1);
      expect(env.nodeRunsByExtensions()).toEqual([]);
    } finally {
      await env.shutdown().catch(() => undefined);
      await sink.stop();
    }
  });

  it('the trap catches an extension that needs node: the Node.js layer cannot start there', async () => {
    const nodeLayer = await buildLayer(join(root, 'node'));
    const started = LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir: SAMPLE_FUNCTION_DIR,
      layers: [nodeLayer.layerDir],
      extensionsWithoutNode: true,
      initTimeoutMs: 3_000,
    });
    await expect(started).rejects.toThrow(/observed-lambda exited with status 127/);
    // 127: `#!/usr/bin/env node` found only the trap, which records the run and fails.
  });
});
