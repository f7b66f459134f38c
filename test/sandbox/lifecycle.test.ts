import { describe, expect, it } from 'vitest';
import { LambdaEnvironment, type TelemetryEvent } from '../../sandbox/index.js';
import {
  CJS_CODE,
  platformEvent,
  processState,
  readRecords,
  receivedTelemetry,
  useRecordingEnvironments,
} from './helpers.js';

const suite = useRecordingEnvironments({ shutdownDeadlineMs: 1000 });

describe('sandbox lifecycle with an external extension', () => {
  it('starts extensions before the runtime and completes init only when they wait in /next', async () => {
    const env = await suite.start();
    const log = env.events;
    const at = (pred: (e: (typeof log)[number]) => boolean) => log.findIndex(pred);
    const registered = at((e) => e.type === 'extension.register' && e.name === 'test-extension');
    const runtimeSpawned = at((e) => e.type === 'process.spawn' && e.name === 'runtime');
    const extensionNext = at((e) => e.type === 'extension.next' && e.name === 'test-extension');
    const runtimeNext = at((e) => e.type === 'runtime.next');
    const initDone = at((e) => e.type === 'init.done');
    expect(registered).toBeGreaterThanOrEqual(0);
    expect(registered).toBeLessThan(runtimeSpawned);
    expect(runtimeSpawned).toBeLessThan(runtimeNext);
    expect(extensionNext).toBeLessThan(initDone);
    expect(runtimeNext).toBeLessThan(initDone);
    expect(log[initDone + 1]?.type).toBe('freeze');
    expect(env.frozen).toBe(true);

    // The extension saw Lambda's registration response and the environment it should get.
    const reg = readRecords(suite.recordFile).find((r) => r.kind === 'register')!;
    expect(reg.body).toEqual({
      functionName: 'sandbox-function',
      functionVersion: '$LATEST',
      handler: 'index.handler',
      accountId: '123456789012',
    });
    const extEnv = reg.env as Record<string, string>;
    expect(extEnv.AWS_LAMBDA_FUNCTION_NAME).toBe('sandbox-function');
    expect(extEnv.OBSERVED_RECEIVER_PORT).toBe(String(env.receiverPort));
    expect(extEnv._HANDLER).toBeUndefined();
    expect(extEnv.LAMBDA_TASK_ROOT).toBeUndefined();
    expect(extEnv.AWS_LAMBDA_LOG_STREAM_NAME).toBeUndefined();
  });

  it('fans INVOKE out to the extension with the request id, deadline, ARN and trace header', async () => {
    const env = await suite.start();
    const r = await env.invoke({ n: 1 });
    expect(r.status).toBe('success');
    const invoke = readRecords(suite.recordFile).find((x) => x.kind === 'event')?.event as Record<string, unknown>;
    expect(invoke).toEqual({
      eventType: 'INVOKE',
      requestId: r.requestId,
      deadlineMs: expect.any(Number),
      invokedFunctionArn: env.functionArn,
      tracing: {
        type: 'X-Amzn-Trace-Id',
        value: expect.stringMatching(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/),
      },
    });
    const invokeStart = r.events.find((e) => e.type === 'invoke.start')!;
    expect(invoke.deadlineMs).toBe(invokeStart.data?.deadlineMs);
    expect(Math.abs((invoke.deadlineMs as number) - (invokeStart.timeMs + 3000))).toBeLessThanOrEqual(2);
    const ext = r.events.find((e) => e.type === 'extension.event')!;
    const runtime = r.events.find((e) => e.type === 'runtime.invoke')!;
    expect(ext.requestId).toBe(r.requestId);
    expect(runtime.requestId).toBe(r.requestId);
  });

  it('emits start, runtimeDone and report with Lambda schemas; report only after the extension is back in /next', async () => {
    const env = await suite.start({ TEST_EXT_WAIT_RUNTIME_DONE: '1' });
    const r = await env.invoke({ n: 1 });
    const seq = (type: string) => r.events.find((e) => platformEvent(e, type, r.requestId))!.seq;
    const extNext = r.events.find((e) => e.type === 'extension.next')!.seq;
    expect(seq('platform.start')).toBeLessThan(seq('platform.runtimeDone'));
    expect(seq('platform.runtimeDone')).toBeLessThan(extNext);
    expect(extNext).toBeLessThan(seq('platform.report'));

    const get = (type: string) =>
      r.events.find((e) => platformEvent(e, type, r.requestId))!.data?.event as TelemetryEvent;
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    const tracing = { type: 'X-Amzn-Trace-Id', value: expect.stringMatching(/^Root=1-/) };
    expect(get('platform.start')).toEqual({
      time: expect.stringMatching(iso),
      type: 'platform.start',
      record: { requestId: r.requestId, version: '$LATEST', tracing },
    });
    const done = get('platform.runtimeDone');
    expect(done.record).toEqual({
      requestId: r.requestId,
      status: 'success',
      metrics: { durationMs: expect.any(Number), producedBytes: Buffer.byteLength(JSON.stringify(r.result)) },
      tracing,
      spans: [
        { name: 'responseLatency', start: expect.stringMatching(iso), durationMs: expect.any(Number) },
        { name: 'responseDuration', start: expect.stringMatching(iso), durationMs: expect.any(Number) },
      ],
    });
    const report = get('platform.report').record as { metrics: Record<string, number>; status: string };
    expect(report.status).toBe('success');
    expect(report.metrics).toEqual({
      durationMs: r.durationMs,
      billedDurationMs: Math.ceil(r.durationMs),
      memorySizeMB: 128,
      maxMemoryUsedMB: r.maxMemoryUsedMB,
      initDurationMs: r.initDurationMs,
    });
    expect(r.coldStart).toBe(true);
    expect(r.initDurationMs).toBeGreaterThan(0);
    // The caller's wait: the runtimeDone spans end to end, to a fraction of a millisecond (a warm
    // invocation lasts a few), and within the invoke phase.
    const [latency, duration] = (done.record as { spans: { durationMs: number }[] }).spans;
    expect(r.responseMs).toBeCloseTo(latency.durationMs + duration.durationMs, 2);
    expect(r.responseMs).toBeLessThanOrEqual(r.durationMs);
    expect([r.responseMs, r.durationMs, r.initDurationMs].some((ms) => !Number.isInteger(ms))).toBe(true);

    // The extension waited for runtimeDone before /next, so the report reaches it only later:
    // here with the next invocation (it was frozen in between).
    const r2 = await env.invoke({ n: 2 });
    expect(r2.coldStart).toBe(false);
    expect(r2.initDurationMs).toBeUndefined();
    const records = readRecords(suite.recordFile);
    const seen = records.find((x) => x.kind === 'runtime-done-seen' && x.requestId === r.requestId);
    expect(seen?.seen).toBe(true);
    const delivered = receivedTelemetry(records);
    const types = delivered
      .filter((e) => (e.record as { requestId?: string })?.requestId === r.requestId)
      .map((e) => e.type);
    expect(types).toEqual(['platform.start', 'platform.runtimeDone', 'platform.report']);
    const reportArrival = records.findIndex(
      (x) =>
        x.kind === 'telemetry' &&
        (x.events as TelemetryEvent[]).some(
          (e) => e.type === 'platform.report' && (e.record as { requestId: string }).requestId === r.requestId,
        ),
    );
    const doneIndex = records.findIndex((x) => x.kind === 'invoke-done' && x.requestId === r.requestId);
    expect(reportArrival).toBeGreaterThan(doneIndex);
    // The init events and the function's log line reached the extension too.
    expect(delivered.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'platform.initStart',
        'platform.initRuntimeDone',
        'platform.initReport',
        'platform.extension',
        'platform.telemetrySubscription',
        'function',
        'extension',
      ]),
    );
    const fn = delivered.find((e) => e.type === 'function' && String(e.record).includes(r.requestId));
    expect(fn?.record).toMatch(new RegExp(`\\t${r.requestId}\\tINFO\\thandling \\{"n":1\\}$`));
    expect(delivered.find((e) => e.type === 'extension')?.record).toBe('test-extension ready');
    expect(delivered.find((e) => e.type === 'platform.extension')?.record).toEqual({
      name: 'test-extension',
      state: 'Ready',
      events: ['INVOKE', 'SHUTDOWN'],
    });
  });

  it('freezes the processes between invocations: a timer in the extension does not tick', async () => {
    const env = await suite.start({ TEST_EXT_TICK_MS: '20', TEST_EXT_WORK_MS: '150' });
    await env.invoke();
    expect(env.frozen).toBe(true);
    for (const p of env.processInfo) expect(processState(p.pid!)).toBe('T');
    await new Promise((r) => setTimeout(r, 500));
    await env.invoke();
    const freezes = env.events.filter((e) => e.type === 'freeze');
    const thaws = env.events.filter((e) => e.type === 'thaw');
    const frozenFrom = freezes[freezes.length - 2].timeMs;
    const frozenTo = thaws[thaws.length - 1].timeMs;
    expect(frozenTo - frozenFrom).toBeGreaterThanOrEqual(500);
    const ticks = readRecords(suite.recordFile)
      .filter((x) => x.kind === 'tick')
      .map((x) => x.t);
    expect(ticks.filter((t) => t > frozenFrom && t < frozenTo - 5)).toEqual([]);
    // While thawed and working, it ticks.
    expect(ticks.filter((t) => t >= frozenTo).length).toBeGreaterThanOrEqual(3);
  });

  it('reports maxMemoryUsedMB from the real process tree', async () => {
    const env = suite.pool.add(
      await LambdaEnvironment.start({ handler: 'index.memory', codeDir: CJS_CODE, memorySizeMb: 512 }),
    );
    const small = await env.invoke({ mb: 1 });
    const big = await env.invoke({ mb: 96 });
    expect(small.maxMemoryUsedMB).toBeGreaterThan(20);
    expect(big.maxMemoryUsedMB).toBeGreaterThanOrEqual(small.maxMemoryUsedMB + 80);
  });
});
