/**
 * The extension as tests run it: the current source built into a layer of a
 * temporary directory (once per test file), and helpers to read what the
 * extension said about itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltLayer, buildLayer } from '../../scripts/build-extension.js';
import { buildPortableLayer, EXTENSION_NAME } from '../../scripts/build-portable-layer.js';

let built: Promise<BuiltLayer> | undefined;
let dir: string | undefined;

/**
 * Which layer the sandbox suites run: the Node.js layer, or with OBSERVED_TEST_LAYER=portable
 * (`npm run test:portable`) the layer for runtimes without Node.js (LLRT).
 */
export const TEST_LAYER_KIND: 'node' | 'portable' =
  process.env.OBSERVED_TEST_LAYER === 'portable' ? 'portable' : 'node';

async function portableTestLayer(outDir: string): Promise<BuiltLayer> {
  const portable = await buildPortableLayer(outDir);
  if (!portable) throw new Error('OBSERVED_TEST_LAYER=portable needs LLRT: bash scripts/install/llrt.sh');
  return {
    layerDir: portable.layerDir,
    executable: join(portable.layerDir, 'extensions', EXTENSION_NAME),
    zipPath: portable.zipPath,
    zipBytes: portable.zipBytes,
    executableBytes: portable.bundleBytes,
  };
}

/** Builds the layer of TEST_LAYER_KIND from the current source into `<outDir>/layer` (or `layer-portable`). */
export function buildTestLayer(outDir: string): Promise<BuiltLayer> {
  return TEST_LAYER_KIND === 'portable' ? portableTestLayer(outDir) : buildLayer(outDir);
}

/** Builds the extension from the current source (once per process). */
export function testLayer(): Promise<BuiltLayer> {
  if (!built) {
    dir = mkdtempSync(join(tmpdir(), 'observed-layer-'));
    built = buildTestLayer(dir);
  }
  return built;
}

export function removeTestLayer(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  built = undefined;
  dir = undefined;
}

export const SAMPLE_FUNCTION_DIR = join(__dirname, '..', '..', 'examples', 'sample-function');

export interface ExitTotals {
  received: Record<string, Record<string, number>>;
  pipelineDropped: Record<string, Record<string, number>>;
  exporters: { exporter: string; signal: string; exported: number; retried: number; dropped: Record<string, number> }[];
}

/** The totals the extension logs when it exits (`exit <code> after N invocation(s); totals {...}`). */
export function exitTotals(stdout: string): ExitTotals | undefined {
  const line = stdout.split('\n').find((l) => l.includes('] INFO exit ') && l.includes('totals {'));
  return line ? (JSON.parse(line.slice(line.indexOf('totals ') + 7)) as ExitTotals) : undefined;
}

/** Items of one signal the extension received, delivered and dropped (pipeline and exporter `exporter`). */
export function accounting(totals: ExitTotals, signal: string, exporter = 'otlp') {
  const received = Object.values(totals.received[signal] ?? {}).reduce((a, b) => a + b, 0);
  const row = totals.exporters.find((r) => r.exporter === exporter && r.signal === signal);
  const droppedByExporter = Object.values(row?.dropped ?? {}).reduce((a, b) => a + b, 0);
  const droppedInPipeline = Object.values(totals.pipelineDropped[signal] ?? {}).reduce((a, b) => a + b, 0);
  return {
    received,
    exported: row?.exported ?? 0,
    dropped: droppedByExporter + droppedInPipeline,
    retried: row?.retried ?? 0,
  };
}
