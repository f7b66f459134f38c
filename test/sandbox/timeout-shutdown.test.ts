import { describe, expect, it } from 'vitest';
import { LambdaInitError, type TelemetryEvent } from '../../sandbox/index.js';
import { platformEvent, processState, readRecords, receivedTelemetry, useRecordingEnvironments } from './helpers.js';

const suite = useRecordingEnvironments({ handler: 'index.sleeps', shutdownDeadlineMs: 500 });

describe('sandbox timeouts and shutdown', () => {
  it('times out, resets the environment (SHUTDOWN reason timeout) and starts cold on the next invoke', async () => {
    const env = await suite.start({}, { timeoutMs: 400 });
    const firstRuntimePid = env.processInfo.find((p) => p.name === 'runtime')!.pid!;
    const r = await env.invoke({ ms: 3000 });
    expect(r.status).toBe('timeout');
    expect(r.error).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringContaining(`${r.requestId} Task timed out after 0.40 seconds`),
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(400);
    const runtimeDone = r.events.find((e) => platformEvent(e, 'platform.runtimeDone', r.requestId))!.data
      ?.event as TelemetryEvent;
    expect(runtimeDone.record).toMatchObject({ status: 'timeout', errorType: 'Sandbox.Timedout' });
    const report = r.events.find((e) => platformEvent(e, 'platform.report', r.requestId))!.data
      ?.event as TelemetryEvent;
    expect(report.record).toMatchObject({ status: 'timeout' });
    expect(r.events.map((e) => e.type)).toEqual(expect.arrayContaining(['timeout', 'reset']));
    expect(processState(firstRuntimePid)).toBeUndefined();
    const shutdown = readRecords(suite.recordFile).find(
      (x) => x.kind === 'event' && (x.event as { eventType: string }).eventType === 'SHUTDOWN',
    );
    expect(shutdown?.event).toEqual({
      eventType: 'SHUTDOWN',
      shutdownReason: 'timeout',
      deadlineMs: expect.any(Number),
    });
    expect(env.processInfo).toEqual([]);
    // The extension still received the timed-out invocation's runtimeDone and report before it exited.
    const delivered = receivedTelemetry(readRecords(suite.recordFile)).filter(
      (e) => (e.record as { requestId?: string }).requestId === r.requestId,
    );
    expect(delivered.map((e) => [e.type, (e.record as { status?: string }).status])).toEqual([
      ['platform.start', undefined],
      ['platform.runtimeDone', 'timeout'],
      ['platform.report', 'timeout'],
    ]);

    const next = await env.invoke({ ms: 1 });
    expect(next.status).toBe('success');
    expect(next.coldStart).toBe(true);
    expect(next.initDurationMs).toBeGreaterThan(0);
    expect(next.events.map((e) => e.type)).toContain('init.start');
    const nextReport = next.events.find((e) => platformEvent(e, 'platform.report', next.requestId))!.data
      ?.event as TelemetryEvent;
    expect((nextReport.record as { metrics: { initDurationMs?: number } }).metrics.initDurationMs).toBe(
      next.initDurationMs,
    );
    expect(env.processInfo.find((p) => p.name === 'runtime')!.pid).not.toBe(firstRuntimePid);
    // Both generations' registrations were recorded by the extension.
    expect(readRecords(suite.recordFile).filter((x) => x.kind === 'register')).toHaveLength(2);
  });

  it('counts the extension time after the response against the timeout', async () => {
    const env = await suite.start({ TEST_EXT_WORK_MS: '1500' }, { timeoutMs: 600 });
    const r = await env.invoke({ ms: 1 });
    expect(r.status).toBe('timeout');
    const done = r.events.find((e) => platformEvent(e, 'platform.runtimeDone', r.requestId))!.data
      ?.event as TelemetryEvent;
    // The runtime itself answered in time.
    expect((done.record as { status: string }).status).toBe('success');
  });

  it('sends SHUTDOWN with its deadline; an extension that exits in time is reported so', async () => {
    // A generous deadline: exiting in time must not depend on how busy the machine is.
    const env = await suite.start({}, { shutdownDeadlineMs: 2000 });
    await env.invoke({ ms: 1 });
    const extPid = env.processInfo.find((p) => p.name === 'test-extension')!.pid!;
    const s = await env.shutdown({ reason: 'spindown' });
    expect(s.extensionsExitedInTime).toBe(true);
    expect(s.killed).toEqual([]);
    expect(s.extensions).toEqual([
      expect.objectContaining({ name: 'test-extension', exitedInTime: true, exitCode: 0, notified: true }),
    ]);
    expect(s.durationMs).toBeLessThan(2000);
    expect(processState(extPid)).toBeUndefined();
    const event = readRecords(suite.recordFile).find(
      (x) => x.kind === 'event' && (x.event as { eventType: string }).eventType === 'SHUTDOWN',
    )?.event as { deadlineMs: number };
    const started = env.events.find((e) => e.type === 'shutdown.start')!;
    expect(event.deadlineMs).toBe(started.data?.deadlineMs);
    expect(Math.abs(event.deadlineMs - (started.timeMs + 2000))).toBeLessThanOrEqual(2);
  });

  it('kills an extension that ignores SHUTDOWN once the deadline passes', async () => {
    const env = await suite.start({ TEST_EXT_IGNORE_SHUTDOWN: '1' });
    const extPid = env.processInfo.find((p) => p.name === 'test-extension')!.pid!;
    const s = await env.shutdown();
    expect(s.extensionsExitedInTime).toBe(false);
    expect(s.killed).toContain('test-extension');
    expect(s.extensions[0]).toMatchObject({ name: 'test-extension', exitedInTime: false, signal: 'SIGKILL' });
    expect(s.durationMs).toBeGreaterThanOrEqual(450);
    expect(s.durationMs).toBeLessThan(2000);
    expect(processState(extPid)).toBeUndefined();
    expect(readRecords(suite.recordFile).map((x) => x.kind)).toContain('ignoring-shutdown');
  });

  it.each([
    ['crash', 'Extension.Crash'],
    ['exit-error', 'Extension.ExitError'],
  ])(
    'fails the invocation when the extension exits during it (%s) and starts cold next time',
    async (mode, errorType) => {
      const env = await suite.start({ TEST_EXT_ON_INVOKE: mode }, { handler: 'index.sleeps', timeoutMs: 3000 });
      const r = await env.invoke({ ms: 200 });
      expect(r.status).toBe('failure');
      expect(r.error?.errorType).toBe(errorType);
      expect(r.events.map((e) => e.type)).toContain('reset');
      const report = r.events.find((e) => platformEvent(e, 'platform.report', r.requestId))!.data
        ?.event as TelemetryEvent;
      expect(report.record).toMatchObject({ status: 'failure', errorType });
      if (mode === 'exit-error') {
        expect(readRecords(suite.recordFile).find((x) => x.kind === 'exit-error')).toMatchObject({ status: 202 });
      }
      const next = await env.invoke({ ms: 1 });
      expect(next.coldStart).toBe(true);
      expect(next.events.map((e) => e.type)).toContain('init.start');
    },
  );

  it('fails init with the extension error type when an extension reports an init error', async () => {
    const attempt = suite.start({ TEST_EXT_INIT_ERROR: '1' });
    await expect(attempt).rejects.toBeInstanceOf(LambdaInitError);
    const err = (await attempt.catch((e: unknown) => e)) as LambdaInitError;
    expect(err.errorType).toBe('Extension.TestInitFailure');
    const initReport = err.events.find((e) => platformEvent(e, 'platform.initReport'))?.data?.event as TelemetryEvent;
    expect(initReport.record).toMatchObject({ status: 'error', errorType: 'Extension.TestInitFailure' });
    expect(readRecords(suite.recordFile).find((x) => x.kind === 'init-error')).toMatchObject({
      status: 202,
      body: { status: 'OK' },
    });
  });
});
