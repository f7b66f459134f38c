/**
 * Benchmark: the two ways to convert OTLP/JSON, on both engines the extension
 * runs on (Node.js; LLRT, the portable layer's engine):
 *
 * - schema: extension-src/otlp/json.ts, straight between JSON values and wire
 *   bytes, driven by the table in otlp/schema.ts (which the receiver's
 *   validation walk needs anyway);
 * - protobufjs: the generated protobufjs code the extension already bundles,
 *   `fromObject` + `encode` and `decode` + `toObject`, plus a walk that turns
 *   hex trace and span ids into bytes and back (bench/otlp-json/protobufjs-codec.ts).
 *
 * Payloads: SDK-made requests (bench/../test/support/otlp-fixtures.ts) with an
 * exponential histogram and a summary added, so metrics carry every point
 * type; "small" is one invocation's worth, "large" a batch. Both codecs are
 * bundled with esbuild into one driver (bench/otlp-json/driver.ts), run once
 * per engine. Also: the minified bytes each path adds to the extension bundle
 * (esbuild metafiles).
 *
 * Run alone: `npm run bench -- otlp-json` (`--quick` for a short run).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { jsonToProtobuf } from '../../extension-src/otlp/json.js';
import { messageTypes } from '../../extension-src/otlp/proto.js';
import type { Signal } from '../../extension-src/otlp/types.js';
import { llrtBinary } from '../../scripts/build-portable-layer.js';
import { NODE_EXECUTABLE } from '../../scripts/node-bundle.js';
import { sdkRequests } from '../../test/support/otlp-fixtures.js';
import type { DriverResult, Payload } from '../otlp-json/driver.js';
import * as viaProtobufjs from '../otlp-json/protobufjs-codec.js';

export const title = 'OTLP/JSON codec: schema-driven (otlp/json.ts) vs protobufjs fromObject/toObject';

const root = join(__dirname, '..', '..');
const CODECS = ['schema', 'protobufjs'] as const;
type CodecName = (typeof CODECS)[number];

const time = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

/** An exponential histogram and a summary, the point types the JS SDK's defaults do not make. */
function extraMetrics(count: number, nowMs: number): Record<string, unknown>[] {
  const point = (i: number) => ({
    attributes: [{ key: 'series', value: { stringValue: `x${i}` } }],
    startTimeUnixNano: time(nowMs - 60_000),
    timeUnixNano: time(nowMs),
  });
  const range = Array.from({ length: count }, (_, i) => i);
  return [
    {
      name: 'fixture.exponential',
      unit: 's',
      exponentialHistogram: {
        aggregationTemporality: 2,
        dataPoints: range.map((i) => ({
          ...point(i),
          count: '12',
          sum: 3.75,
          scale: 3,
          zeroCount: '1',
          positive: { offset: -2, bucketCounts: ['1', '4', '3', '2'] },
          negative: { offset: 1, bucketCounts: ['1'] },
          min: -0.5,
          max: 1.25,
        })),
      },
    },
    {
      name: 'fixture.summary',
      summary: {
        dataPoints: range.map((i) => ({
          ...point(i),
          count: '5',
          sum: 2.5,
          quantileValues: [
            { quantile: 0.5, value: 0.4 },
            { quantile: 0.99, value: 1.2 },
          ],
        })),
      },
    },
  ];
}

interface PayloadFiles extends Payload {
  readonly text: string;
  readonly protobuf: Uint8Array;
}

async function payloads(): Promise<PayloadFiles[]> {
  const sizes = {
    small: { spans: 5, series: 3, logs: 4, extra: 1 },
    large: { spans: 500, series: 200, logs: 500, extra: 50 },
  };
  const out: PayloadFiles[] = [];
  for (const [size, o] of Object.entries(sizes)) {
    const fixtures = await sdkRequests({ spans: o.spans, series: o.series, logs: o.logs, tag: size });
    for (const signal of ['traces', 'metrics', 'logs'] as Signal[]) {
      const json = JSON.parse(fixtures[signal].json);
      let items = fixtures[signal].items;
      if (signal === 'metrics') {
        json.resourceMetrics[0].scopeMetrics[0].metrics.push(...extraMetrics(o.extra, Date.now()));
        items += 2 * o.extra;
      }
      const text = JSON.stringify(json);
      out.push({ name: `${size}-${signal}`, signal, items, text, protobuf: jsonToProtobuf(signal, json).bytes });
    }
  }
  return out;
}

/** Both codecs must make the same message from the same JSON, and the same JSON from the same bytes. */
function checkAgreement(all: readonly PayloadFiles[]): void {
  for (const p of all) {
    const type = messageTypes.request[p.signal];
    const plain = (bytes: Uint8Array) =>
      JSON.stringify(type.toObject(type.decode(bytes), { longs: String, bytes: String, defaults: true }));
    const theirs = viaProtobufjs.jsonToProtobuf(p.signal, JSON.parse(p.text));
    if (plain(theirs.bytes) !== plain(p.protobuf)) throw new Error(`${p.name}: the codecs make different messages`);
    if (theirs.items !== p.items) throw new Error(`${p.name}: protobufjs path counted ${theirs.items} items`);
  }
}

interface Sizes {
  /** Minified bytes of the codec bundled alone (both directions). */
  alone: Record<CodecName, number>;
  /** Minified bytes the codec adds to the extension bundle (what the extension does not already hold). */
  added: Record<CodecName, number>;
}

let sizes: Sizes | undefined;

const CODEC_MODULES: Record<CodecName, string> = {
  schema: './extension-src/otlp/json.js',
  protobufjs: './bench/otlp-json/protobufjs-codec.js',
};

async function bundle(entry: string | { contents: string }, outfile: string): Promise<Map<string, number>> {
  const result = await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: root, loader: 'ts' as const } }),
    outfile,
    // The shipped bundles' options (the LLRT build differs only in target), without the shebang.
    ...NODE_EXECUTABLE,
    target: 'es2023',
    banner: {},
    metafile: true,
    absWorkingDir: root,
  });
  const bytes = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) bytes.set(path, input.bytesInOutput);
  }
  return bytes;
}

/** Sizes from esbuild metafiles; returns the driver bundle (both codecs, run by each engine). */
async function buildBundles(dir: string): Promise<string> {
  const extension = await bundle(join(root, 'extension-src/main.ts'), join(dir, 'extension.js'));
  // What the extension holds without the schema-driven converter (otlp/schema.ts stays: validation uses it).
  extension.delete('extension-src/otlp/json.ts');
  sizes = { alone: { schema: 0, protobufjs: 0 }, added: { schema: 0, protobufjs: 0 } };
  for (const codec of CODECS) {
    const contents = `export { jsonToProtobuf, protobufToJson } from '${CODEC_MODULES[codec]}';`;
    for (const [path, bytes] of await bundle({ contents }, join(dir, `${codec}.js`))) {
      if (path === '<stdin>') continue;
      sizes.alone[codec] += bytes;
      if (!extension.has(path)) sizes.added[codec] += bytes;
    }
  }
  const driver = join(dir, 'driver.js');
  await bundle(join(root, 'bench/otlp-json/driver.ts'), driver);
  return driver;
}

export async function run(options: { quick?: boolean } = {}) {
  const totalMs = options.quick ? 1_000 : 4_000;
  const all = await payloads();
  checkAgreement(all);
  const dir = mkdtempSync(join(tmpdir(), 'otlp-json-bench-'));
  try {
    for (const p of all) {
      writeFileSync(join(dir, `${p.name}.json`), p.text);
      writeFileSync(join(dir, `${p.name}.pb`), p.protobuf);
    }
    writeFileSync(
      join(dir, 'payloads.json'),
      JSON.stringify(all.map(({ name, signal, items }) => ({ name, signal, items }))),
    );
    const driver = await buildBundles(dir);
    const engines: [string, string | undefined][] = [
      ['Node.js', process.execPath],
      ['LLRT', llrtBinary()],
    ];
    const rows = [];
    for (const [engine, binary] of engines) {
      if (!binary) {
        console.warn('SKIPPING LLRT: not in the tools cache (bash scripts/install/llrt.sh)');
        continue;
      }
      const out = execFileSync(binary, [driver, dir, String(totalMs)], { encoding: 'utf8' });
      const results: DriverResult[] = JSON.parse(out.trim().split('\n').pop() ?? '[]');
      for (const [i, p] of all.entries()) {
        const r = results[i];
        const mbps = (us: number) => p.protobuf.length / us;
        rows.push({
          engine,
          payload: p.name,
          items: p.items,
          'protobuf bytes': p.protobuf.length,
          'JSON parse (µs)': r.parse,
          'to protobuf, schema (µs)': r.toProtobuf.schema,
          'to protobuf, protobufjs (µs)': r.toProtobuf.protobufjs,
          'to protobuf, schema (MB/s)': mbps(r.toProtobuf.schema),
          'to protobuf, protobufjs (MB/s)': mbps(r.toProtobuf.protobufjs),
          'to JSON, schema (µs)': r.toJson.schema,
          'to JSON, protobufjs (µs)': r.toJson.protobufjs,
          'to JSON, schema (MB/s)': mbps(r.toJson.schema),
          'to JSON, protobufjs (MB/s)': mbps(r.toJson.protobufjs),
        });
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const notes = () =>
  sizes
    ? `Minified bytes, both directions: schema path ${sizes.alone.schema.toLocaleString('en-US')} alone, ` +
      `${sizes.added.schema.toLocaleString('en-US')} added to the extension bundle (otlp/schema.ts is there for validation anyway); ` +
      `protobufjs path ${sizes.alone.protobufjs.toLocaleString('en-US')} alone (generated code, protobufjs, long), ` +
      `${sizes.added.protobufjs.toLocaleString('en-US')} added (the rest is bundled for the exporters' decoding). ` +
      'Each engine runs both codecs in one process, taking turns in 7 rounds; each figure is its best round. ' +
      '"to protobuf" is parse + convert less parse alone (its own column). Both paths give the same message on every payload (checked before timing).'
    : '';
