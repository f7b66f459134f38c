/**
 * Times both OTLP/JSON codecs on the payloads of a directory and prints one JSON line of results.
 * Bundled by bench/cases/otlp-json.ts and run by Node.js and by LLRT, so it uses only what both
 * engines have (fs, performance, Buffer, JSON). The codecs take turns in short rounds and each
 * keeps its best round, so a load spike on the shared machine does not favour one of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as schema from '../../extension-src/otlp/json.js';
import type { Signal } from '../../extension-src/otlp/types.js';
import * as protobufjs from './protobufjs-codec.js';

export interface Payload {
  readonly name: string;
  readonly signal: Signal;
  readonly items: number;
}

/** Microseconds per request, best round. */
export interface DriverResult {
  readonly name: string;
  readonly parse: number;
  readonly toProtobuf: { schema: number; protobufjs: number };
  readonly toJson: { schema: number; protobufjs: number };
}

const ROUNDS = 7;

/** Microseconds per call over about `ms` milliseconds. */
function timeFor(fn: () => unknown, ms: number): number {
  let n = 0;
  let batch = 1;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    batch = Math.min(batch * 2, 64);
    elapsed = performance.now() - start;
  }
  return (elapsed * 1000) / n;
}

/** Best of ROUNDS rounds for each function, the functions taking turns. */
function race(fns: (() => unknown)[], totalMs: number): number[] {
  const roundMs = totalMs / ROUNDS / fns.length;
  for (const fn of fns) timeFor(fn, roundMs); // warm-up
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < ROUNDS; round++) {
    fns.forEach((fn, i) => {
      best[i] = Math.min(best[i], timeFor(fn, roundMs));
    });
  }
  return best;
}

function main(): void {
  const [dir, totalMsText] = process.argv.slice(-2);
  const totalMs = Number(totalMsText);
  const payloads = JSON.parse(readFileSync(join(dir, 'payloads.json'), 'utf8')) as Payload[];
  const results: DriverResult[] = [];
  for (const p of payloads) {
    const text = readFileSync(join(dir, `${p.name}.json`), 'utf8');
    const protobuf = new Uint8Array(readFileSync(join(dir, `${p.name}.pb`)));
    // JSON.parse is timed with the conversion: the protobufjs path converts ids in place.
    const [parse, parseSchema, parseProtobufjs] = race(
      [
        () => JSON.parse(text),
        () => schema.jsonToProtobuf(p.signal, JSON.parse(text)),
        () => protobufjs.jsonToProtobuf(p.signal, JSON.parse(text)),
      ],
      totalMs,
    );
    const [toJsonSchema, toJsonProtobufjs] = race(
      [() => schema.protobufToJson(p.signal, protobuf), () => protobufjs.protobufToJson(p.signal, protobuf)],
      totalMs,
    );
    results.push({
      name: p.name,
      parse,
      toProtobuf: { schema: parseSchema - parse, protobufjs: parseProtobufjs - parse },
      toJson: { schema: toJsonSchema, protobufjs: toJsonProtobufjs },
    });
  }
  console.log(JSON.stringify(results));
}

main();
