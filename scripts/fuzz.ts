/**
 * `npm run fuzz -- [--seconds N] [--seed S] [--target NAME]`: runs every fuzz
 * target (fuzz/targets.ts) for N seconds each (default 60), prints one line
 * per target and a JSON report, writes crash inputs to fuzz/crashes/, and
 * exits non-zero on any crash, broken invariant, or heap that did not come
 * back within the bound after garbage collection.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type FuzzReport, fuzz } from '../fuzz/engine.js';
import { allTargets } from '../fuzz/targets.js';

/** Heap growth (MB, after GC) a run may leave behind: module caches are bounded well below this. */
export const HEAP_GROWTH_LIMIT_MB = 64;

export function verdict(report: FuzzReport): string[] {
  const problems = [...report.problems];
  for (const c of report.crashes) problems.push(`crash: ${c.error.split('\n')[0]} (input sha256 ${c.inputSha256})`);
  const growth = report.heapEndMB - report.heapStartMB;
  if (growth > HEAP_GROWTH_LIMIT_MB) problems.push(`heap grew ${growth.toFixed(1)} MB (limit ${HEAP_GROWTH_LIMIT_MB})`);
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string' }, seed: { type: 'string' }, target: { type: 'string' } },
  });
  const seconds = Number(values.seconds ?? 60);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() & 0x7fffffff;
  const targets = allTargets().filter((t) => !values.target || t.name === values.target);
  if (targets.length === 0) throw new Error(`no target named ${values.target}`);
  const reports: FuzzReport[] = [];
  let failed = false;
  for (const target of targets) {
    const report = await fuzz(target, { seconds, seed });
    reports.push(report);
    const problems = verdict(report);
    failed ||= problems.length > 0;
    console.log(
      `${problems.length ? 'FAIL' : 'ok  '} ${report.target.padEnd(20)} ${report.iterations} inputs in ${report.seconds.toFixed(
        1,
      )} s, seed ${seed}, largest ${report.largestInput} B, heap ${report.heapStartMB.toFixed(1)} -> ${report.heapEndMB.toFixed(
        1,
      )} MB, rss max ${report.rssMaxMB.toFixed(0)} MB ${JSON.stringify(report.stats)}`,
    );
    for (const p of problems) console.log(`     ${p}`);
    if (report.crashes.length > 0) {
      const dir = join(__dirname, '..', 'fuzz', 'crashes');
      mkdirSync(dir, { recursive: true });
      for (const c of report.crashes) {
        if (c.input) writeFileSync(join(dir, `${report.target}-${c.inputSha256.slice(0, 16)}.b64`), `${c.input}\n`);
      }
    }
  }
  console.log(JSON.stringify({ seed, seconds, reports: reports.map((r) => ({ ...r, crashes: r.crashes.length })) }));
  process.exitCode = failed ? 1 : 0;
  // Keep-alive agents of the exporters must not hold the process open.
  setTimeout(() => process.exit(process.exitCode), 100).unref();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
