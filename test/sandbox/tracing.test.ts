/**
 * The X-Ray trace header per tracing mode, as the runtime (_X_AMZN_TRACE_ID),
 * an extension (the INVOKE event) and the Telemetry API (platform.start's
 * `tracing`) see it; and no header at all, as under AWS's Runtime Interface
 * Emulator.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type InvokeEvent, LambdaEnvironment, type LambdaEnvironmentOptions } from '../../sandbox/index.js';
import { CJS_CODE, EnvironmentPool, TEST_LAYER } from './helpers.js';

const pool = new EnvironmentPool();
afterAll(() => pool.shutdownAll());

const HEADER = /^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$/;
const CALLER_ROOT = '1-5759e988-bd862e3fe1be46a994272793';

async function traced(options: Partial<LambdaEnvironmentOptions>, incomingTraceHeader?: string) {
  const env = pool.add(
    await LambdaEnvironment.start({ handler: 'index.handler', codeDir: CJS_CODE, layers: [TEST_LAYER], ...options }),
  );
  const r = await env.invoke({}, { incomingTraceHeader });
  expect(r.status).toBe('success');
  const runtime = (r.result as { traceId?: string }).traceId;
  const invoke = env.log.entries.find((e) => e.type === 'extension.event' && e.requestId === r.requestId);
  const start = env
    .telemetryEvents('platform.start')
    .find((e) => (e.record as { requestId: string }).requestId === r.requestId);
  return {
    runtime,
    invoke: (invoke?.data?.event as InvokeEvent | undefined)?.tracing,
    telemetry: (start?.record as { tracing?: { spanId?: string; type: string; value: string } } | undefined)?.tracing,
  };
}

describe('sandbox X-Ray tracing modes', () => {
  it('PassThrough without a caller header: a new Root, Sampled=0, the same header everywhere, no spanId', async () => {
    const seen = await traced({ tracing: 'PassThrough' });
    expect(seen.runtime).toMatch(HEADER);
    expect(HEADER.exec(seen.runtime!)![3]).toBe('0');
    expect(seen.invoke).toEqual({ type: 'X-Amzn-Trace-Id', value: seen.runtime });
    expect(seen.telemetry).toEqual({ type: 'X-Amzn-Trace-Id', value: seen.runtime });
  });

  it('Active without a caller header: sampled, and the Telemetry API names the segment in spanId', async () => {
    const seen = await traced({ tracing: 'Active' });
    expect(HEADER.exec(seen.runtime!)![3]).toBe('1');
    expect(seen.invoke?.value).toBe(seen.runtime);
    expect(seen.telemetry).toEqual({
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      type: 'X-Amzn-Trace-Id',
      value: seen.runtime,
    });
  });

  it("keeps the caller's Root and sampling decision, with the function segment as Parent", async () => {
    const sampledOut = await traced({ tracing: 'Active' }, `Root=${CALLER_ROOT};Parent=53995c3f42cd8ad8;Sampled=0`);
    const [, root, parent, sampled] = HEADER.exec(sampledOut.runtime!)!;
    expect([root, sampled]).toEqual([CALLER_ROOT, '0']);
    expect(parent).not.toBe('53995c3f42cd8ad8');
    expect(sampledOut.telemetry?.spanId).toBeUndefined();

    const passedThrough = await traced(
      { tracing: 'PassThrough' },
      `Root=${CALLER_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
    );
    const [, passedRoot, , passedSampled] = HEADER.exec(passedThrough.runtime!)!;
    expect([passedRoot, passedSampled]).toEqual([CALLER_ROOT, '1']);
    expect(passedThrough.telemetry?.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('sends no header at all with traceHeader none: no _X_AMZN_TRACE_ID, no INVOKE or Telemetry API tracing', async () => {
    const seen = await traced({ tracing: 'Active', traceHeader: 'none' }, `Root=${CALLER_ROOT};Sampled=1`);
    expect(seen.runtime).toBeUndefined();
    expect(seen.invoke).toBeUndefined();
    expect(seen.telemetry).toBeUndefined();
  });
});
