/**
 * A seeded, structure-aware mutation fuzzer. Jazzer.js (the coverage-guided
 * JS fuzzer on npm) ships a libFuzzer addon built against glibc 2.38, which
 * Debian 12 (glibc 2.36) cannot load, and its older releases build the addon
 * from source with downloads at install time; so the project fuzzes with this
 * engine: valid seeds, mutated through their structure (protobuf wire fields,
 * JSON trees) and their bytes, in chains, for a bounded time.
 *
 * A target throws only for a crash: anything its module was not supposed to
 * do with hostile input (an exception that escapes a "never throws" API, a
 * hang, a broken invariant). Memory is sampled after forced garbage
 * collection at the start and end of a run, with the target's long-lived
 * state kept across all inputs, as it is in the extension process.
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mutateBytes } from './mutate-bytes.js';
import { mutateJson } from './mutate-json.js';
import { mutateProto } from './mutate-proto.js';
import { Rng } from './rng.js';

export type InputKind = 'proto' | 'json' | 'bytes';

export interface FuzzTarget {
  readonly name: string;
  /** What is driven, in one line (for reports). */
  readonly description: string;
  readonly kind: InputKind;
  seeds(): Uint8Array[];
  setup?(): Promise<void>;
  /** Runs one input; throws only for a crash. */
  run(input: Uint8Array): Promise<void> | void;
  /** Invariants checked after the run (e.g. a server still answers); returns problems. */
  check?(): Promise<string[]>;
  teardown?(): Promise<void>;
  /** Counters worth reporting (accepted, rejected, ...). */
  stats?(): Record<string, number>;
}

export interface Crash {
  readonly error: string;
  readonly inputSha256: string;
  readonly inputLength: number;
  /** base64 of inputs up to 64 KiB, to reproduce. */
  readonly input?: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly seed: number;
  readonly iterations: number;
  readonly seconds: number;
  readonly largestInput: number;
  readonly crashes: Crash[];
  readonly problems: string[];
  /** Heap after GC, before the first mutated input and after the last. */
  readonly heapStartMB: number;
  readonly heapEndMB: number;
  readonly rssMaxMB: number;
  readonly stats: Record<string, number>;
}

export interface FuzzOptions {
  readonly seconds: number;
  readonly seed?: number;
  readonly maxIterations?: number;
  /** A single input taking longer than this is reported as a hang. */
  readonly inputTimeoutMs?: number;
}

let gcFn: (() => void) | undefined;
/** Forces a full collection (exposes V8's gc on demand; no command-line flag needed). */
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

const MB = 1024 * 1024;

export function mutate(rng: Rng, kind: InputKind, input: Uint8Array, other: Uint8Array | undefined): Uint8Array {
  // JSON broken at the byte level mostly stops at the parser, so JSON inputs stay structured more often.
  if (kind !== 'bytes' && rng.chance(kind === 'json' ? 0.92 : 0.75)) {
    const structured = kind === 'proto' ? mutateProto(rng, input, other) : mutateJson(rng, input, other);
    if (structured) return structured;
  }
  return mutateBytes(rng, input, other);
}

async function withTimeout(work: Promise<void> | void, ms: number): Promise<void> {
  if (!(work instanceof Promise)) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hang: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Broken JSON only tests the parser; keep the pool to inputs that parse, so chains go deeper. */
function keepable(kind: InputKind, input: Uint8Array): boolean {
  if (kind !== 'json') return true;
  try {
    JSON.parse(Buffer.from(input).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Date.now() & 0x7fffffff;
  const rng = new Rng(seed);
  const timeoutMs = options.inputTimeoutMs ?? 10_000;
  const seeds = target.seeds();
  // Seeds plus a bounded pool of recent mutants, so mutations chain.
  const pool: Uint8Array[] = [...seeds];
  const crashes: Crash[] = [];
  const seen = new Set<string>();
  let largest = 0;
  let rssMax = 0;
  await target.setup?.();
  try {
    const exec = async (input: Uint8Array) => {
      largest = Math.max(largest, input.length);
      try {
        await withTimeout(target.run(input), timeoutMs);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        const firstLines = message.split('\n').slice(0, 4).join('\n');
        if (seen.has(firstLines)) return;
        seen.add(firstLines);
        crashes.push({
          error: message,
          inputSha256: createHash('sha256').update(input).digest('hex'),
          inputLength: input.length,
          input: input.length <= 65_536 ? Buffer.from(input).toString('base64') : undefined,
        });
      }
    };
    for (const s of seeds) await exec(s);
    collectGarbage();
    const heapStart = process.memoryUsage().heapUsed;
    const started = Date.now();
    const until = started + options.seconds * 1000;
    const maxIterations = options.maxIterations ?? Number.POSITIVE_INFINITY;
    let iterations = 0;
    let lastSample = 0;
    while (Date.now() < until && iterations < maxIterations && crashes.length < 5) {
      let input = rng.pick(pool);
      for (let i = 0, n = 1 + rng.int(3); i < n; i++) input = mutate(rng, target.kind, input, rng.pick(pool));
      await exec(input);
      iterations++;
      if (input.length < 256 * 1024 && rng.chance(0.05) && keepable(target.kind, input)) {
        if (pool.length < seeds.length + 64) pool.push(input);
        else pool[seeds.length + rng.int(64)] = input;
      }
      if (Date.now() - lastSample > 250) {
        lastSample = Date.now();
        rssMax = Math.max(rssMax, process.memoryUsage().rss);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const problems = (await target.check?.()) ?? [];
    pool.length = 0;
    collectGarbage();
    const usage = process.memoryUsage();
    rssMax = Math.max(rssMax, usage.rss);
    return {
      target: target.name,
      seed,
      iterations,
      seconds,
      largestInput: largest,
      crashes,
      problems,
      heapStartMB: heapStart / MB,
      heapEndMB: usage.heapUsed / MB,
      rssMaxMB: rssMax / MB,
      stats: target.stats?.() ?? {},
    };
  } finally {
    await target.teardown?.();
  }
}
