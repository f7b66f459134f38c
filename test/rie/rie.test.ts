/**
 * The real built layer in a second execution environment, AWS's own: the Lambda Runtime Interface Emulator
 * (behind `sam local` and container images) with AWS's Node.js runtime interface client, aws-lambda-ric.
 * CommonJS and ES module handlers, started as Lambda's managed nodejs runtimes start them
 * (run(LAMBDA_TASK_ROOT, _HANDLER) after the exec wrapper) and through the client's own entry
 * (`aws-lambda-ric <handler>`, container images), with and without the exec wrapper. RIE has no Telemetry API,
 * so only the function's own telemetry arrives, and it must arrive exactly once, without any stall.
 * Each run has its own namespaces (namespace.ts): the extension listens on the default ports.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer } from '../../scripts/build-extension.js';
import { buildInstrumentationLayer } from '../../scripts/build-instrumentation.js';
import { tempDir } from '../sandbox/helpers.js';
import { requireBinary } from '../support/binaries.js';
import { requireCachedTool } from '../support/tools.js';
import { namespacesUnavailable, runScenario } from './namespace.js';
import type { ScenarioConfig, ScenarioResult } from './scenario.js';

const RIE = 'rie-v0.0.0-20261030222936-bef5c4ba774d/aws-lambda-rie';
const RIC = 'aws-lambda-ric-3.3.0/node_modules/aws-lambda-ric';
const FUNCTIONS = join(__dirname, '..', 'instrumentation', 'fixtures', 'functions');
const INVOCATIONS = 5;
// Over a range: at SHUTDOWN the extension marks its series stale.
const ORDERS = 'sum(max_over_time(fixture_orders_total[5m]))';

function tools(): { rie: string; ric: string } | undefined {
  const rie = requireCachedTool(RIE, 'scripts/install/rie.sh');
  const ric = requireCachedTool(RIC, 'scripts/install/aws-lambda-ric.sh');
  if (!rie || !ric) return undefined;
  const why = namespacesUnavailable();
  if (why) {
    if (process.env.CI === 'true') throw new Error(`CI requires it: ${why}`);
    console.warn(`SKIPPING: ${why}`);
    return undefined;
  }
  return { rie, ric };
}

const found = tools();
const withPrometheus = found !== undefined && requireBinary('prometheus') !== undefined;
const out = tempDir();
let layerDir = '';

beforeAll(async () => {
  if (!found) return;
  ({ layerDir } = await buildLayer(out.dir));
  await buildInstrumentationLayer(layerDir, join(out.dir, 'maps'));
}, 120_000);
afterAll(() => out.cleanup());

function run(config: Omit<ScenarioConfig, 'rie' | 'ric'>): Promise<ScenarioResult> {
  return runScenario(layerDir, { ...found!, ...config });
}

/** The function's own invocation spans (from the exec wrapper's SDK), by request id. */
function wrapperSpans(result: ScenarioResult): string[] {
  return result.spans
    .filter((s) => s.scope !== 'observed-lambda/platform' && s.invocationId)
    .map((s) => s.invocationId!);
}

function requestIds(result: ScenarioResult): string[] {
  return [...result.output.matchAll(/START RequestId: ([0-9a-f-]{36})/g)].map((m) => m[1]);
}

/** Invocations with the exec wrapper: each answered, one invocation span each, the counter at its last value. */
function expectWrapped(result: ScenarioResult) {
  expect(result.invocations.map((i) => i.status)).toEqual(Array(INVOCATIONS).fill(200));
  const ids = requestIds(result);
  expect(ids).toHaveLength(INVOCATIONS);
  expect(wrapperSpans(result).sort()).toEqual([...ids].sort());
  // Cumulative: the last point of the function's counter counts every invocation, and none counts more.
  const orders = result.metrics['fixture.orders'] ?? [];
  expect(Math.max(...orders)).toBe(INVOCATIONS);
  // No Telemetry API here: said once, and no invocation waits for a runtimeDone (RIE's timeout is 10 s here).
  expect(result.output.match(/Telemetry\.NotSupported/g)).toHaveLength(1);
  for (const invocation of result.invocations) expect(invocation.ms).toBeLessThan(5_000);
  expect(result.spans.filter((s) => s.scope === 'observed-lambda/platform')).toEqual([]);
}

const payloads = Array.from({ length: INVOCATIONS }, (_, i) => ({ order: i }));

describe.skipIf(!found)('the layer under RIE with aws-lambda-ric', () => {
  it('CommonJS handler, managed-runtime entry, exec wrapper: every span and counter once, also in Prometheus', async () => {
    const result = await run({
      codeDir: join(FUNCTIONS, 'cjs'),
      handler: 'index.handler',
      entry: 'managed',
      wrapper: true,
      payloads,
      prometheus: withPrometheus,
      queries: [ORDERS],
    });
    expectWrapped(result);
    if (withPrometheus) expect(result.prometheus?.[ORDERS]).toBe(INVOCATIONS);
    expect(result.output).not.toContain('_HANDLER=/opt');
  });

  it('ES module handler, managed-runtime entry, exec wrapper', async () => {
    expectWrapped(
      await run({
        codeDir: join(FUNCTIONS, 'esm'),
        handler: 'index.handler',
        entry: 'managed',
        wrapper: true,
        payloads,
      }),
    );
  });

  it('CommonJS handler, the client entry (aws-lambda-ric <handler>), exec wrapper', async () => {
    expectWrapped(
      await run({ codeDir: join(FUNCTIONS, 'cjs'), handler: 'index.handler', entry: 'argv', wrapper: true, payloads }),
    );
  });

  it('ES module handler, the client entry, exec wrapper: wrapped, and _HANDLER stays the function own', async () => {
    const result = await run({
      codeDir: join(__dirname, 'fixtures', 'handler-env'),
      handler: 'index.handler',
      entry: 'argv',
      wrapper: true,
      payloads,
    });
    expectWrapped(result);
    for (const invocation of result.invocations) expect(JSON.parse(invocation.body).handler).toBe('index.handler');
  });

  it('a function error: answered 200 with the error body, the environment kept, every invocation span exported', async () => {
    const result = await run({
      codeDir: join(FUNCTIONS, 'cjs'),
      handler: 'index.fails',
      entry: 'managed',
      wrapper: true,
      payloads: payloads.slice(0, 3),
    });
    expect(result.invocations.map((i) => i.status)).toEqual([200, 200, 200]);
    for (const invocation of result.invocations) {
      expect(JSON.parse(invocation.body)).toMatchObject({ errorType: 'RangeError', errorMessage: 'out of stock' });
    }
    expect(result.output.match(/External agent observed-lambda .* registered/g)).toHaveLength(1);
    expect(wrapperSpans(result).sort()).toEqual(requestIds(result).sort());
    expect(requestIds(result)).toHaveLength(3);
  });

  it('without the exec wrapper: answered at once (no wait for a runtimeDone that never comes), nothing lost', async () => {
    for (const entry of ['managed', 'argv'] as const) {
      const result = await run({
        codeDir: join(FUNCTIONS, 'cjs'),
        handler: 'index.handler',
        entry,
        wrapper: false,
        payloads,
      });
      expect(result.invocations.map((i) => i.status)).toEqual(Array(INVOCATIONS).fill(200));
      expect(result.output.match(/Telemetry\.NotSupported/g)).toHaveLength(1);
      // Only the first invocation waits for a flushed notice (at most 1 s); none until RIE's 10 s timeout.
      for (const invocation of result.invocations) expect(invocation.ms).toBeLessThan(5_000);
      expect(result.output).toMatch(/\[observed-lambda\] INFO exit 0 after 5 invocation/);
    }
  });
});
