/**
 * The layer's exec wrapper in the sandbox: plain functions (no code change)
 * with AWS_LAMBDA_EXEC_WRAPPER pointing at the built wrapper get an
 * invocation span and their own metric exported before the response, for
 * CommonJS and ES module handlers alike. The SDK exports straight to a local
 * OTLP sink here; the suite with the extension in between is
 * extension-pipeline.test.ts. The exports are written before the response
 * (the answers are not waited for), and the sink in this process may read
 * them a moment after the invocation's result: the tests wait for them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, StatusCode } from '../../extension-src/otlp/types.js';
import { LambdaEnvironment, type LambdaEnvironmentOptions } from '../../sandbox/index.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../scripts/build-instrumentation.js';
import { tempDir } from '../sandbox/helpers.js';
import { OtlpSink } from '../support/otlp-sink.js';
import { arrival, attribute, NoticeReceiver, spanByInvocation } from './helpers.js';

const FUNCTIONS = join(__dirname, 'fixtures', 'functions');
const sink = new OtlpSink();
const notices = new NoticeReceiver();
const layer = tempDir();
const environments: LambdaEnvironment[] = [];

beforeAll(async () => {
  await Promise.all([sink.start(), notices.start()]);
  await buildInstrumentationLayer(layer.dir, join(layer.dir, '..', `${WRAPPER_NAME}-maps`));
});

afterAll(async () => {
  await Promise.all(environments.splice(0).map((e) => e.shutdown().catch(() => undefined)));
  await Promise.all([notices.stop(), sink.stop()]);
  layer.cleanup();
});

async function start(codeDir: string, handler: string, options: Partial<LambdaEnvironmentOptions> = {}) {
  const env = await LambdaEnvironment.start({
    handler,
    codeDir: join(FUNCTIONS, codeDir),
    functionName: 'fixture',
    layers: [layer.dir],
    timeoutMs: 10_000,
    ...options,
    env: {
      AWS_LAMBDA_EXEC_WRAPPER: join(layer.dir, WRAPPER_NAME),
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OBSERVED_RECEIVER_PORT: String(notices.port),
      ...options.env,
    },
  });
  environments.push(env);
  return env;
}

/** The invocation's span once the sink has it, and its notice (written after the exports). */
async function exported(requestId: string) {
  const span = await arrival(() => spanByInvocation(sink.spans(), requestId));
  await arrival(() => notices.requestIds.includes(requestId));
  return span;
}

/** Whether a point of the metric matching `match` arrives. */
async function metricArrives(name: string, match: (p: ReturnType<typeof metricPoints>[number]) => boolean) {
  return (await arrival(() => metricPoints(name).some(match))) ?? false;
}

function metricPoints(name: string) {
  return sink
    .metrics()
    .filter((m) => m.name === name)
    .flatMap((m) => m.sum?.dataPoints ?? []);
}

describe('exec wrapper with a CommonJS function', () => {
  it('traces each invocation and exports the function metric before the response', async () => {
    const env = await start('cjs', 'index.handler');
    const first = await env.invoke({ order: 1 });
    const second = await env.invoke({ order: 2 });

    for (const r of [first, second]) {
      expect(r.status).toBe('success');
      const span = await exported(r.requestId);
      expect(span?.name).toBe('fixture');
      expect(span?.kind).toBe(SpanKind.SERVER);
      // The handler ran inside the invocation span.
      expect((r.result as { traceId?: string }).traceId).toBe(Buffer.from(span!.traceId!).toString('hex'));
      expect(notices.requestIds).toContain(r.requestId);
    }
    expect(first.result).toMatchObject({ ok: true, echo: { order: 1 } });
    expect(attribute(spanByInvocation(sink.spans(), first.requestId)?.attributes, 'faas.coldstart')).toBe(true);
    expect(attribute(spanByInvocation(sink.spans(), second.requestId)?.attributes, 'faas.coldstart')).toBe(false);
    expect(await metricArrives('fixture.orders', (p) => attribute(p.attributes, 'kind') === 'async')).toBe(true);
    // A healthy setup says nothing in the function's logs.
    expect(env.stderr()).not.toContain('observed-lambda instrumentation:');
  });

  it('wraps callback handlers and reports handler errors unchanged', async () => {
    const callback = await start('cjs', 'index.callback');
    const r = await callback.invoke({});
    expect(r.result).toEqual({ ok: true, via: 'callback' });
    expect(await exported(r.requestId)).toBeDefined();

    const failing = await start('cjs', 'index.fails');
    const f = await failing.invoke({});
    expect(f.status).toBe('error');
    expect(f.error).toMatchObject({ errorType: 'RangeError', errorMessage: 'out of stock' });
    expect((await exported(f.requestId))?.status?.code).toBe(StatusCode.ERROR);
  });

  it('exports the span of an invocation that times out before Lambda stops the runtime', async () => {
    const env = await start('cjs', 'index.hangs', { timeoutMs: 1_500 });
    const r = await env.invoke({});
    expect(r.status).toBe('timeout');
    const span = await arrival(() => spanByInvocation(sink.spans(), r.requestId));
    expect(span?.status?.code).toBe(StatusCode.ERROR);
    expect(attribute(span?.attributes, 'error.type')).toBe('TimeoutError');
  });

  it('wraps a handler exported as a getter, as bundlers emit it', async () => {
    const env = await start('cjs', 'bundled.handler');
    const r = await env.invoke({});
    expect(r.result).toBe('bundled ok');
    expect(await exported(r.requestId)).toBeDefined();
  });

  it('loads nothing when OTEL_SDK_DISABLED is true, and the function still answers', async () => {
    const env = await start('cjs', 'index.handler', { env: { OTEL_SDK_DISABLED: 'true' } });
    const r = await env.invoke({ order: 3 });
    expect(r.result).toMatchObject({ ok: true, echo: { order: 3 } });
    expect(spanByInvocation(sink.spans(), r.requestId)).toBeUndefined();
  });
});

describe('exec wrapper with ES module functions', () => {
  it('traces an .mjs handler', async () => {
    const env = await start('esm', 'index.handler');
    const r = await env.invoke({ order: 'esm' });
    expect(r.status).toBe('success');
    const span = await exported(r.requestId);
    expect(span?.name).toBe('fixture');
    expect((r.result as { traceId?: string }).traceId).toBe(Buffer.from(span!.traceId!).toString('hex'));
    expect(await metricArrives('fixture.orders', (p) => attribute(p.attributes, 'kind') === 'esm')).toBe(true);
    expect(notices.requestIds).toContain(r.requestId);
    expect(env.stderr()).not.toContain('observed-lambda instrumentation:');
  });

  it("traces a handler that is the module's default export", async () => {
    const env = await start('esm', 'defaulted.default');
    const r = await env.invoke({ d: 1 });
    expect(r.result).toEqual({ defaulted: true, echo: { d: 1 } });
    expect(await exported(r.requestId)).toBeDefined();
  });

  it('traces a nested handler of a .js module under "type": "module"', async () => {
    const env = await start('esm-pkg', 'app.api.handler');
    const r = await env.invoke({});
    expect(r.result).toEqual({ nested: true, started: 'number' });
    expect(await exported(r.requestId)).toBeDefined();
    expect(await metricArrives('fixture.orders', (p) => attribute(p.attributes, 'kind') === 'nested')).toBe(true);
  });
});
