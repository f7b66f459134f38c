/**
 * Benchmark: the Node.js layer of this checkout against the one of another revision (default 439f7a6), in one run:
 * `npm run bench -- node-layer-vs [rev] [after-rev]` (with an after-rev, that revision instead of this checkout).
 *
 * A revision is checked out into a temporary git worktree outside the repository (removed afterwards); each tree
 * builds its own layer with its own build code (bench/cases/node-layer-vs-trees.ts). Both layers then run in the
 * sandbox exactly as the `peers` case runs a layer (bench/peers/compare.ts), interleaved: each round runs 1,000
 * invocations under one, then the other, then 10,000 data points/s into a real Prometheus under each, the order
 * reversed every other round. Translate + encode: each tree's remote write path (OTLP decode, translation, request
 * cutting, WriteRequest encoding, snappy) bundled by esbuild from its own modules and timed on the same requests,
 * one fresh process per side and round, alternating.
 *
 * Per figure: the median over the rounds, the range (min to max), the median of the per-round differences (after
 * minus before, both measured in that round) and in how many rounds the checkout was worse. The verdict says
 * "worse" or "better" only when the checkout's median lies outside the revision's range.
 *
 * BENCH_VS_ROUNDS (default 5; --quick 1), BENCH_VS_INVOCATIONS (default 1,000; --quick 100),
 * BENCH_VS_LOAD_SECONDS (default 20; --quick 5), BENCH_VS_PARTS (default `layers,encode`; one of them to bisect).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Comparison, compare, type LayerResult, MEMORY_MB, percentile } from '../peers/compare.js';
import { observedNodeLayer } from '../peers/layers.js';
import {
  buildTreeLayer,
  bundleTreeEncoder,
  checkoutRevision,
  currentCheckout,
  type Revision,
  timeEncoder,
  writeRequests,
} from './node-layer-vs-trees.js';
import { lambdaLikeRequest } from './remote-write.js';

export const argumentsUsage = '[before revision, default 439f7a6] [after revision, default this checkout]';
export const timeoutMinutes = 60;
export const title = 'Node.js layer of this checkout against another revision, same run';

const DEFAULT_REVISION = '439f7a6';
const LOAD_RATE = 10_000;
const ENCODE_PAYLOADS = 300;
const ENCODE_ROUNDS = 10;
const ENCODE_PASSES = 3;

type Row = Record<string, string>;

const median = (values: number[]) => percentile(values, 0.5);

/**
 * Samples per CPU-second of each tree's encoder: one fresh process per side and round, the sides alternating
 * (A B, B A, ...) so that neither gets the quieter moments; per process the median of its passes. A process of its
 * own for each, since how V8 happens to optimise the hot loops in one process is part of what varies.
 */
function encodeRounds(bundles: string[], requestsFile: string, rounds: number): number[][] {
  const perSecond: number[][] = bundles.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) perSecond[i].push(median(timeEncoder(bundles[i], requestsFile, ENCODE_PASSES)));
  }
  return perSecond;
}

interface Measure {
  name: string;
  unit: string;
  digits: number;
  /** Per round, both sides. */
  before: number[];
  after: number[];
  higherIsBetter?: boolean;
}

function measureRow(m: Measure, beforeLabel: string, afterLabel: string): Row {
  const fmt = (v: number) => `${v.toFixed(m.digits)}${m.unit}`;
  const cell = (values: number[]) =>
    values.length > 1
      ? `${fmt(median(values))} (${fmt(Math.min(...values))} to ${fmt(Math.max(...values))})`
      : fmt(values[0]);
  const pairs = m.before.map((b, i) => m.after[i] - b);
  const worse = pairs.filter((d) => (m.higherIsBetter ? d < 0 : d > 0)).length;
  const after = median(m.after);
  const outsideAbove = after > Math.max(...m.before);
  const outsideBelow = after < Math.min(...m.before);
  const verdict =
    m.before.length < 2
      ? 'one round: no spread'
      : outsideAbove || outsideBelow
        ? outsideAbove === !m.higherIsBetter
          ? 'worse'
          : 'better'
        : 'within the spread';
  const diff = median(pairs);
  return {
    measure: m.name,
    [beforeLabel]: cell(m.before),
    [afterLabel]: cell(m.after),
    'after - before (median of rounds)': `${diff >= 0 ? '+' : ''}${fmt(diff)}`,
    'rounds worse': `${worse} of ${pairs.length}`,
    verdict,
  };
}

function layerMeasures(before: LayerResult, after: LayerResult, invocations: number): Measure[] {
  const per = (layer: LayerResult, pick: (r: LayerResult['invocations'][number]) => number) =>
    layer.invocations.map(pick);
  const load = (layer: LayerResult, pick: (r: LayerResult['loads'][number]) => number) => layer.loads.map(pick);
  const both = (name: string, unit: string, digits: number, pick: (l: LayerResult) => number[]): Measure => ({
    name,
    unit,
    digits,
    before: pick(before),
    after: pick(after),
  });
  const n = invocations.toLocaleString('en-US');
  return [
    both('ready: spawn to first /next', ' ms', 0, (l) => per(l, (r) => r.readyMs)),
    both('cold start: init phase', ' ms', 1, (l) => per(l, (r) => r.initMs)),
    both('cold start: first invocation', ' ms', 1, (l) => per(l, (r) => r.firstInvocationMs)),
    both('added after exports p50', ' ms', 2, (l) => per(l, (r) => percentile(r.addedMs, 0.5))),
    both('added after exports p99', ' ms', 2, (l) => per(l, (r) => percentile(r.addedMs, 0.99))),
    both(`CPU per 1,000 invocations (of ${n})`, ' s', 2, (l) => per(l, (r) => (r.cpuSeconds / invocations) * 1000)),
    both(`peak RSS after ${n} invocations`, ' MB', 1, (l) => per(l, (r) => r.peakRssBytes / 1e6)),
    both(`${LOAD_RATE.toLocaleString('en-US')} points/s: CPU`, ' %', 1, (l) => load(l, (r) => r.cpuPercent)),
    both(`${LOAD_RATE.toLocaleString('en-US')} points/s: peak RSS`, ' MB', 1, (l) =>
      load(l, (r) => r.peakRssBytes / 1e6),
    ),
  ];
}

/** Text figures: the same in every round, or each round's. */
function textRow(name: string, pick: (l: LayerResult) => string[], layers: LayerResult[], labels: string[]): Row {
  const row: Row = { measure: name };
  layers.forEach((layer, i) => {
    const values = pick(layer);
    row[labels[i]] = new Set(values).size === 1 ? values[0] : values.map((v, r) => `round ${r + 1}: ${v}`).join('; ');
  });
  return row;
}

export async function run(options: { quick?: boolean; args?: string[] } = {}): Promise<Row[]> {
  const [beforeRev = DEFAULT_REVISION, afterRev] = options.args ?? [];
  const parts = (process.env.BENCH_VS_PARTS ?? 'layers,encode').split(',');
  const rounds = Number(process.env.BENCH_VS_ROUNDS ?? (options.quick ? 1 : 5));
  const invocations = Number(process.env.BENCH_VS_INVOCATIONS ?? (options.quick ? 100 : 1000));
  const loadSeconds = Number(process.env.BENCH_VS_LOAD_SECONDS ?? (options.quick ? 5 : 20));
  const work = mkdtempSync(join(tmpdir(), 'observed-bench-vs-'));
  const checkouts = [checkoutRevision(beforeRev)];
  try {
    if (afterRev) checkouts.push(checkoutRevision(afterRev));
    const trees: Revision[] = [checkouts[0], checkouts[1] ?? currentCheckout()];
    const labels = trees.map((t, i) => `${i === 0 ? 'before' : 'after'}: ${t.short}`);
    for (const [i, t] of trees.entries()) console.error(`${labels[i]} ${t.subject} (node_modules: ${t.dependencies})`);
    const rows: Row[] = [
      {
        measure: 'revision',
        [labels[0]]: `${trees[0].sha} ${trees[0].subject}`,
        [labels[1]]: `${trees[1].sha} ${trees[1].subject}`,
      },
    ];

    if (parts.includes('encode')) {
      const bundles = trees.map((_, i) => join(work, `encode-${i}.cjs`));
      await Promise.all(trees.map((t, i) => bundleTreeEncoder(t, bundles[i])));
      const t0 = Date.now() - 3_600_000;
      const requestsFile = join(work, 'requests.bin');
      writeRequests(
        requestsFile,
        Array.from({ length: ENCODE_PAYLOADS }, (_, i) => lambdaLikeRequest(t0 + i * 100)),
      );
      const encodeRoundCount = options.quick ? 2 : ENCODE_ROUNDS;
      console.error(`translate + encode: ${encodeRoundCount} rounds of one process per side, alternating`);
      const encode = encodeRounds(bundles, requestsFile, encodeRoundCount);
      rows.push(
        measureRow(
          {
            name: 'translate + encode (remote write path), samples per CPU-second',
            unit: '',
            digits: 0,
            before: encode[0],
            after: encode[1],
            higherIsBetter: true,
          },
          labels[0],
          labels[1],
        ),
      );
    }

    if (parts.includes('layers')) {
      const layers = trees.map((tree, i) =>
        observedNodeLayer(i === 0 ? 'before' : 'after', labels[i], async (outDir) => buildTreeLayer(tree, outDir)),
      );
      const comparison: Comparison = await compare(
        { invocations, runs: rounds, loadRate: LOAD_RATE, loadSeconds, alternateOrder: true },
        console.error,
        layers,
      );
      const [b, a] = comparison.layers;
      const kb = (bytes: number | undefined) => `${Math.round((bytes ?? Number.NaN) / 1e3)} KB`;
      rows.push(
        {
          measure: 'zipped layer (extension + instrumentation)',
          [labels[0]]: kb(b.zipBytes),
          [labels[1]]: kb(a.zipBytes),
        },
        ...layerMeasures(b, a, invocations).map((m) => measureRow(m, labels[0], labels[1])),
        textRow('load arrived', (l) => l.loads.map((r) => r.arrived), [b, a], labels),
        textRow('exactly once', (l) => l.invocations.map((r) => r.exactlyOnce), [b, a], labels),
        {
          measure: 'bare `node -e 0`, median',
          [labels[0]]: `${median(comparison.bareNodeMs).toFixed(0)} ms (${process.version})`,
        },
      );
    }
    return rows;
  } finally {
    for (const checkout of checkouts) checkout.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

export const notes =
  'Same run, both layers interleaved: per round, BENCH_VS_INVOCATIONS invocations ' +
  `(default 1,000) under each layer, then ${LOAD_RATE.toLocaleString('en-US')} data points/s into a real Prometheus by ` +
  'remote write under each (the order reversed every other round); BENCH_VS_ROUNDS rounds (default 5). Each layer ' +
  `is built by its own tree's build code and run in this checkout's sandbox (a ${MEMORY_MB} MB function) with the ` +
  'function and method of the `peers` case (its notes in bench/cases/peers.ts). Cold start: the init phase (runtime ' +
  "and extension until both wait for the first event) and the first invocation's duration, from platform.report. " +
  `Translate + encode: ${ENCODE_ROUNDS} alternating rounds, one fresh process per side and round, each running ` +
  `${ENCODE_PAYLOADS} OTLP protobuf requests of bench/cases/remote-write.ts (776 samples each) through its tree's ` +
  `own modules (bundled by esbuild) once to warm up, then ${ENCODE_PASSES} times, CPU time, the median pass. ` +
  'Cells: median over the rounds (min to max); "after - before": the median of the ' +
  'per-round differences; "rounds worse": rounds in which the checkout did worse; verdict "worse" or "better" ' +
  "only when the checkout's median lies outside the other revision's range.";
