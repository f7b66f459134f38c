/**
 * Faults, each with the real extension in a sandboxed Lambda environment and
 * a real Prometheus behind a fault-injecting remote write endpoint. Every case
 * ends with the same accounting: samples the function sent = samples PromQL
 * finds + samples the extension counted as dropped (or, after SIGKILL, as
 * pending when it was killed), exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaEnvironment } from '../../sandbox/index.js';
import { findBinary, requireBinary } from '../support/binaries.js';
import { buildTestLayer } from '../support/extension-layer.js';
import { PrometheusServer } from '../support/prometheus.js';
import { FaultyRemoteWrite } from './backend.js';
import {
  arrived,
  arrivedSeries,
  countedDropped,
  exitTotals,
  extensionPid,
  lastPending,
  procMemory,
  sleep,
  startEmitter,
} from './harness.js';

const available = findBinary('prometheus') !== undefined || requireBinary('prometheus') !== undefined;
/** How long the freeze case keeps the environment stopped (longer in the soak script). */
const FREEZE_MS = Number(process.env.OBSERVED_FAULT_FREEZE_MS ?? 3_000);
const SERIES = 10;

describe.skipIf(!available)('faults: sent = arrived + counted dropped', () => {
  let prom: PrometheusServer;
  let layerRoot: string;
  let layerDir: string;
  let backend: FaultyRemoteWrite | undefined;
  let env: LambdaEnvironment | undefined;

  beforeAll(async () => {
    layerRoot = mkdtempSync(join(tmpdir(), 'observed-faults-'));
    const [server, built] = await Promise.all([PrometheusServer.start(), buildTestLayer(layerRoot)]);
    prom = server as PrometheusServer;
    layerDir = built.layerDir;
  }, 120_000);

  afterEach(async () => {
    await env?.shutdown().catch(() => undefined);
    await backend?.stop();
    env = undefined;
    backend = undefined;
  });

  afterAll(async () => {
    await prom?.stop();
    if (layerRoot) rmSync(layerRoot, { recursive: true, force: true });
  });

  async function setup(
    run: string,
    options: { extraEnv?: Record<string, string>; shutdownDeadlineMs?: number; timeoutMs?: number } = {},
  ) {
    backend = await new FaultyRemoteWrite(prom.url).start();
    env = await startEmitter(backend.url, {
      layerDir,
      functionName: run,
      extraEnv: { OBSERVED_FLUSH_TIMEOUT_MS: '500', ...options.extraEnv },
      shutdownDeadlineMs: options.shutdownDeadlineMs,
      timeoutMs: options.timeoutMs,
    });
    let seq = 0;
    let sent = 0;
    // Warm-up: after the function's first flushed notice the extension waits for it on every invocation
    // (before that, with no Telemetry API subscription, it cannot know when an invocation's data is in).
    await (env as LambdaEnvironment).invoke({ run, seq: 0, series: 0 });
    const invoke = async (extra: Record<string, unknown> = {}) => {
      const series = (extra.series as number | undefined) ?? SERIES;
      const r = await (env as LambdaEnvironment).invoke({ run, seq: ++seq, series, ...extra });
      sent += series;
      // Distinct timestamps per invocation (Prometheus keeps one sample per millisecond and series).
      await sleep(2);
      return r;
    };
    return { invoke, sent: () => sent, backend: backend as FaultyRemoteWrite, env: env as LambdaEnvironment };
  }

  async function account(run: string, sent: number) {
    const totals = exitTotals(env as LambdaEnvironment);
    if (process.env.OBSERVED_FAULT_DEBUG) console.log((env as LambdaEnvironment).stdout('observed-lambda'));
    const got = await arrived(prom, run);
    const dropped = totals ? countedDropped(totals) : undefined;
    console.log(
      `RESULT ${run}: sent ${sent}, arrived ${got}, counted dropped ${dropped ? dropped.pipeline + dropped.exporter : 'n/a'} ${JSON.stringify(dropped?.byReason ?? {})}`,
    );
    return { got, dropped, totals };
  }

  /** The accounting of a fault the extension recovers from: after SHUTDOWN every sample sent arrived, none dropped. */
  async function shutDownAndExpectEverySampleArrived(run: string, t: Awaited<ReturnType<typeof setup>>) {
    await t.env.shutdown();
    const { got, dropped } = await account(run, t.sent());
    expect(got).toBe(t.sent());
    expect(dropped?.exporter).toBe(0);
  }

  it('no fault: every sample arrives', async () => {
    const run = 'fault-none';
    const t = await setup(run);
    for (let i = 0; i < 5; i++) expect((await t.invoke()).status).toBe('success');
    await shutDownAndExpectEverySampleArrived(run, t);
  });

  it('backend down for a whole invocation, then back: kept and delivered, nothing dropped, invocation time bounded', async () => {
    const run = 'fault-down';
    const t = await setup(run);
    await t.invoke();
    await t.backend.down();
    const during = await t.invoke();
    expect(during.status).toBe('success');
    // The flush gives up at OBSERVED_FLUSH_TIMEOUT_MS (500 ms); the function is not held longer.
    expect(during.durationMs).toBeLessThan(2_000);
    await t.backend.up();
    await t.invoke();
    await shutDownAndExpectEverySampleArrived(run, t);
  });

  it('backend slower than the flush deadline: the invocation is not held, samples arrive later', async () => {
    const run = 'fault-slow';
    const t = await setup(run);
    t.backend.fault = { kind: 'slow', delayMs: 1_500 };
    const slow = await t.invoke();
    expect(slow.durationMs).toBeLessThan(2_000);
    await t.invoke();
    t.backend.fault = { kind: 'pass' };
    await t.invoke();
    await shutDownAndExpectEverySampleArrived(run, t);
  });

  it('429 with Retry-After: waits as asked, then delivers everything', async () => {
    const run = 'fault-429';
    const t = await setup(run);
    t.backend.fault = { kind: 'status', status: 429, retryAfterSeconds: 1 };
    await t.invoke();
    await t.invoke();
    t.backend.fault = { kind: 'pass' };
    await sleep(1_100);
    await t.invoke();
    await shutDownAndExpectEverySampleArrived(run, t);
    const refused = t.backend.attempts.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    // No second attempt inside the second the server asked for.
    for (let i = 1; i < refused.length; i++) expect(refused[i].at - refused[i - 1].at).toBeGreaterThanOrEqual(950);
  });

  it('connection reset mid-request: retried, nothing lost', async () => {
    const run = 'fault-reset';
    const t = await setup(run);
    t.backend.fault = { kind: 'reset' };
    await t.invoke();
    t.backend.fault = { kind: 'pass' };
    await sleep(1_100);
    await t.invoke();
    await shutDownAndExpectEverySampleArrived(run, t);
    expect(t.backend.attempts.some((a) => a.fault === 'reset')).toBe(true);
  });

  it(`frozen in the middle of an export for ${FREEZE_MS} ms, thawed later (stale sockets): nothing lost`, async () => {
    const run = 'fault-freeze';
    const t = await setup(run, { timeoutMs: 15_000, extraEnv: { OBSERVED_FLUSH_TIMEOUT_MS: '3000' } });
    await t.invoke();
    t.backend.fault = { kind: 'slow', delayMs: 600 };
    const pending = t.invoke();
    // Wait until the export is on the wire, then stop every process of the environment, as Lambda's freeze does.
    const until = Date.now() + 5_000;
    while (t.backend.inFlight === 0 && Date.now() < until) await sleep(5);
    expect(t.backend.inFlight).toBeGreaterThan(0);
    const groups = t.env.processInfo.filter((p) => p.running && p.pid).map((p) => p.pid as number);
    for (const pid of groups) process.kill(-pid, 'SIGSTOP');
    await sleep(FREEZE_MS);
    // While frozen the server closed its idle keep-alive sockets: the extension holds stale ones.
    t.backend.fault = { kind: 'pass' };
    for (const pid of groups) process.kill(-pid, 'SIGCONT');
    expect((await pending).status).toBe('success');
    await t.invoke();
    await shutDownAndExpectEverySampleArrived(run, t);
  });

  it('SHUTDOWN while an export is in flight: the final flush completes it', async () => {
    const run = 'fault-shutdown-inflight';
    const t = await setup(run);
    t.backend.fault = { kind: 'slow', delayMs: 700 };
    await t.invoke();
    await t.invoke();
    const s = await t.env.shutdown();
    expect(s.extensionsExitedInTime).toBe(true);
    const { got, dropped } = await account(run, t.sent());
    expect(got + (dropped?.exporter ?? 0)).toBe(t.sent());
    expect(got).toBe(t.sent());
  });

  // The extension may exit with a request still unanswered: from SHUTDOWN on, the exporter reports what it has
  // not delivered (queued or on the wire) as dropped, reason "shutdown", or "unconfirmed" for samples of a request
  // that went unanswered before.
  it('SHUTDOWN with a 500 ms deadline and a hanging backend: exits in time, what was not sent is counted', async () => {
    const run = 'fault-shutdown-500ms';
    const t = await setup(run, { shutdownDeadlineMs: 500 });
    await t.invoke();
    t.backend.fault = { kind: 'hang' };
    await t.invoke();
    await t.invoke();
    const s = await t.env.shutdown();
    expect(s.extensionsExitedInTime).toBe(true);
    expect(s.killed).toEqual([]);
    const { got, dropped, totals } = await account(run, t.sent());
    // The platform module's counters (faas.invocations and the like, one sample per point) are emitted at
    // SHUTDOWN and share the exporter: they cannot be delivered either, and are counted with the rest.
    const platformSamples = totals?.received.metrics?.platform ?? 0;
    expect(dropped?.exporter).toBeGreaterThanOrEqual(t.sent() - got);
    expect(got + (dropped?.exporter ?? 0) + (dropped?.pipeline ?? 0)).toBe(t.sent() + platformSamples);
  });

  it('extension SIGKILLed after its deadline: what was lost is what it last counted as pending', async () => {
    const run = 'fault-sigkill';
    const t = await setup(run, { shutdownDeadlineMs: 1_000 });
    await t.invoke();
    t.backend.fault = { kind: 'hang' };
    await t.invoke();
    await t.invoke();
    const pendingAtShutdown = lastPending(t.env);
    // A stuck extension: stopped as SHUTDOWN arrives, so the sandbox must kill it at the deadline.
    const pid = extensionPid(t.env) as number;
    const from = t.env.events[t.env.events.length - 1]?.seq ?? 0;
    const shutdown = t.env.shutdown();
    // The sandbox thaws the environment to deliver SHUTDOWN; stop the extension right after.
    await t.env.waitFor((e) => e.type === 'thaw' && e.seq > from, 5_000);
    process.kill(pid, 'SIGSTOP');
    const s = await shutdown;
    expect(s.killed).toContain('observed-lambda');
    expect(exitTotals(t.env)).toBeUndefined();
    const got = await arrived(prom, run);
    console.log(`RESULT ${run}: sent ${t.sent()}, arrived ${got}, pending when killed ${pendingAtShutdown}`);
    expect(pendingAtShutdown).toBeGreaterThan(0);
    expect(t.sent() - got).toBe(pendingAtShutdown);
  });

  it('function crashes mid-invocation: the extension flushes at the SHUTDOWN that follows', async () => {
    const run = 'fault-crash';
    // As deployed: the Telemetry API's runtimeDone (status failure) is what tells the extension the runtime died.
    const t = await setup(run, { extraEnv: { OBSERVED_TELEMETRY_TYPES: 'platform' } });
    await t.invoke();
    const crashed = await t.invoke({ crash: true });
    expect(crashed.status).toBe('failure');
    await t.invoke();
    // Platform metrics share the exporter here: none of its samples may be dropped either.
    await shutDownAndExpectEverySampleArrived(run, t);
  });

  it('function times out mid-invocation: what it sent before arrives', async () => {
    const run = 'fault-timeout';
    const t = await setup(run, { timeoutMs: 1_500 });
    await t.invoke();
    const timedOut = await t.invoke({ hangMs: 10_000 });
    expect(timedOut.status).toBe('timeout');
    await t.invoke();
    await shutDownAndExpectEverySampleArrived(run, t);
  });

  it('more than the buffers hold: oldest dropped and counted, newest kept, memory bounded', async () => {
    const run = 'fault-overflow';
    // The whole burst must meet the bounds before anything leaves, however long the function takes to post it
    // on a loaded host. End-of-invocation would not do: without platform events the extension waits at most
    // 1 s for the flushed notice and then flushes part-way. So no flush before SHUTDOWN: the longest periodic
    // interval is never reached at the end of an invocation (and the extension does not wait for the notice),
    // and a queue smaller than one round of requests (4 x OBSERVED_REMOTE_WRITE_MAX_SAMPLES) is never sent on
    // its own. The pipeline hands data on to the exporter as it comes, so the exporter's queue is the bound.
    const t = await setup(run, {
      extraEnv: {
        OBSERVED_FLUSH: 'periodic:3600000',
        OBSERVED_BUFFER_MAX_ITEMS: '1000',
        OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES: '1000',
        OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '1000',
      },
      // The burst's posting and the one flush at SHUTDOWN get room on a loaded host; their timing is not what
      // this case is about.
      timeoutMs: 30_000,
      shutdownDeadlineMs: 20_000,
    });
    const pid = extensionPid(t.env) as number;
    const before = procMemory(pid)?.rssKb ?? 0;
    const r = await t.invoke({ series: 5_000, batch: 500 });
    expect(r.status).toBe('success');
    const after = procMemory(pid)?.rssKb ?? 0;
    // Nothing was sent while the burst came in: what arrives is what the bounds kept of all of it.
    expect(t.backend.attempts).toHaveLength(0);
    await t.env.shutdown();
    const { got, dropped, totals } = await account(run, t.sent());
    // A request can outlive the SHUTDOWN flush's deadline while Prometheus is still storing it: the exporter gets
    // no answer and counts its samples as `unconfirmed`, not as lost. This backend stores every request it reads
    // whole, so those samples arrived.
    expect(t.backend.cutShort).toBe(0);
    const unanswered = t.backend.attempts.filter((a) => a.answered === false);
    expect(unanswered.every((a) => a.stored)).toBe(true);
    const arrivedUnconfirmed = dropped?.byReason['remote-write:unconfirmed'] ?? 0;
    if (unanswered.length === 0) expect(arrivedUnconfirmed).toBe(0);
    expect(got + (dropped?.pipeline ?? 0) + (dropped?.exporter ?? 0) - arrivedUnconfirmed).toBe(t.sent());
    expect((dropped?.pipeline ?? 0) + (dropped?.exporter ?? 0)).toBeGreaterThan(0);
    // The queue's 1,000 samples survive, less those of the platform module's counters (one sample per point),
    // which arrive at SHUTDOWN after the whole burst and so are the newest of all.
    const platformSamples = totals?.received.metrics?.platform ?? 0;
    expect(got).toBe(1_000 - platformSamples);
    // The ones kept are the newest: the last series the function sent, without a gap.
    const kept = await arrivedSeries(prom, run);
    expect(kept).toHaveLength(got);
    expect(kept[kept.length - 1]).toBe(4_999);
    expect(kept[0]).toBe(5_000 - got);
    expect((after - before) / 1024).toBeLessThan(64);
  });
});
