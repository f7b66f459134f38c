import { describe, expect, it } from 'vitest';
import { AggregationTemporality } from '../../../extension-src/otlp/types.js';
import type { MissingEvents } from '../../../extension-src/platform/index.js';
import { platformHarness } from './harness.js';
import { functionLog, initReport, initRuntimeDone, initStart, report, runtimeDone, start } from './telemetry-events.js';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');

describe('platform metrics from Telemetry API events', () => {
  it('counts a cold and warm invocations, an error and a timeout, with the durations the reports stated', () => {
    const h = platformHarness();
    // Lambda's delivery pattern: start+runtimeDone before /next, the report in the next batch.
    h.platform.handleEvents([initStart(T0), initRuntimeDone(T0 + 240), initReport(T0 + 250, 250.5)]);
    h.platform.handleEvents([start(T0 + 300, 'r1'), runtimeDone(T0 + 420, 'r1', 120)]);
    h.platform.handleEvents([
      report(T0 + 425, 'r1', { durationMs: 124.5, billedDurationMs: 125, maxMemoryUsedMB: 80, initDurationMs: 250.5 }),
      start(T0 + 1000, 'r2'),
      runtimeDone(T0 + 1010, 'r2', 10),
    ]);
    h.platform.handleEvents([
      report(T0 + 1012, 'r2', { durationMs: 11.5, billedDurationMs: 12, maxMemoryUsedMB: 81 }),
      start(T0 + 2000, 'r3'),
      runtimeDone(T0 + 2005, 'r3', 5, { status: 'error', errorType: 'TypeError' }),
      report(T0 + 2007, 'r3', { durationMs: 6, billedDurationMs: 6, maxMemoryUsedMB: 82 }, { status: 'error' }),
      start(T0 + 3000, 'r4'),
      // A timeout: Lambda reports status timeout; runtimeDone never came.
      report(T0 + 6000, 'r4', { durationMs: 3000, billedDurationMs: 3000, maxMemoryUsedMB: 90 }, { status: 'timeout' }),
    ]);
    h.clock.now += 10_000; // past the grace period for r4's missing runtimeDone
    h.platform.flush();

    expect(h.counter('faas.invocations')).toBe(2);
    expect(h.counter('faas.errors')).toBe(1);
    expect(h.counter('faas.timeouts')).toBe(1);
    expect(h.counter('faas.coldstarts')).toBe(1);

    const invoke = h.histogram('faas.invoke_duration');
    expect(Number(invoke?.count)).toBe(4);
    expect(invoke?.sum).toBeCloseTo((124.5 + 11.5 + 6 + 3000) / 1000, 9);
    expect(invoke?.max).toBeCloseTo(3, 9);
    const buckets = (invoke?.bucketCounts ?? []).map(Number);
    expect(buckets.reduce((a, b) => a + b, 0)).toBe(4);
    expect(buckets[invoke!.explicitBounds!.indexOf(0.01) + 1]).toBe(1); // 11.5 ms in (0.01, 0.025]
    expect(invoke?.min).toBeCloseTo(0.006, 9);

    const init = h.histogram('faas.init_duration');
    expect(Number(init?.count)).toBe(1);
    expect(init?.sum).toBeCloseTo(0.2505, 9);

    const mem = h.histogram('faas.mem_usage');
    expect(mem?.sum).toBe((80 + 81 + 82 + 90) * 1024 * 1024);
    expect(h.histogram('aws.lambda.billed_duration')?.sum).toBeCloseTo((125 + 12 + 6 + 3000) / 1000, 9);
    // The extension's own share after the response: report minus runtimeDone, where both exist.
    expect(h.histogram('aws.lambda.post_runtime_duration')?.sum).toBeCloseTo((4.5 + 1.5 + 1) / 1000, 9);
    expect(Number(h.histogram('aws.lambda.post_runtime_duration')?.count)).toBe(3);
    expect(h.histogram('aws.lambda.response_size')?.sum).toBe(42 * 3);
    expect(h.histogram('aws.lambda.response_latency')?.sum).toBeCloseTo(0.0015 * 3, 9);
    expect(h.histogram('aws.lambda.response_duration')?.sum).toBeCloseTo(0.0005 * 3, 9);
  });

  it('is cumulative with one start time, and emits only when something changed', () => {
    const h = platformHarness();
    h.platform.handleEvents([start(T0, 'a'), runtimeDone(T0 + 5, 'a', 5)]);
    h.platform.handleEvents([report(T0 + 6, 'a', { durationMs: 6, billedDurationMs: 6, maxMemoryUsedMB: 70 })]);
    h.platform.flush();
    const first = h.latestMetrics().get('faas.invocations');
    h.platform.flush();
    expect(h.payloads.filter((p) => p.signal === 'metrics')).toHaveLength(1);
    h.clock.now += 60_000;
    h.platform.handleEvents([start(T0 + 60_000, 'b'), runtimeDone(T0 + 60_005, 'b', 5)]);
    h.platform.handleEvents([report(T0 + 60_006, 'b', { durationMs: 6, billedDurationMs: 6, maxMemoryUsedMB: 70 })]);
    h.platform.flush();
    const second = h.latestMetrics().get('faas.invocations');
    expect(second?.sum?.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(second?.sum?.isMonotonic).toBe(true);
    expect(Number(second?.sum?.dataPoints?.[0].asInt)).toBe(2);
    expect(String(second?.sum?.dataPoints?.[0].startTimeUnixNano)).toBe(
      String(first?.sum?.dataPoints?.[0].startTimeUnixNano),
    );
    expect(String(second?.sum?.dataPoints?.[0].timeUnixNano)).not.toBe(
      String(first?.sum?.dataPoints?.[0].timeUnixNano),
    );
  });

  it('survives duplicated batches, reports before their start, and a runtimeDone after the next INVOKE', () => {
    const h = platformHarness();
    const batch1 = [start(T0, 'r1')];
    const batch2 = [start(T0 + 100, 'r2')]; // r1's runtimeDone is late: it comes after r2 started
    const batch3 = [runtimeDone(T0 + 50, 'r1', 50), runtimeDone(T0 + 110, 'r2', 10)];
    const batch4 = [
      report(T0 + 112, 'r2', { durationMs: 12, billedDurationMs: 12, maxMemoryUsedMB: 64 }),
      report(T0 + 52, 'r1', { durationMs: 52, billedDurationMs: 52, maxMemoryUsedMB: 64 }),
    ];
    h.platform.noteInvoke({ requestId: 'r1' });
    h.platform.handleEvents(batch1);
    h.platform.noteInvoke({ requestId: 'r2' });
    h.platform.handleEvents(batch2);
    h.platform.handleEvents(batch4); // reports first
    h.platform.handleEvents(batch3);
    h.platform.handleEvents(batch3); // redelivered
    h.platform.handleEvents([...batch1, ...batch4]); // redelivered after completion
    h.platform.flush();
    expect(h.counter('faas.invocations')).toBe(2);
    expect(Number(h.histogram('faas.invoke_duration')?.count)).toBe(2);
    expect(h.histogram('aws.lambda.runtime_duration')?.sum).toBeCloseTo(0.06, 9);
    expect(h.platform.stats().duplicates + h.platform.stats().late).toBeGreaterThanOrEqual(5);
    expect(h.platform.stats().open).toBe(0);
  });

  it('holds an invocation missing its report until SHUTDOWN, then counts it', () => {
    const h = platformHarness();
    h.platform.handleEvents([start(T0, 'last'), runtimeDone(T0 + 8, 'last', 8)]);
    h.platform.flush();
    expect(h.counter('faas.invocations')).toBeUndefined();
    h.platform.flush({ final: true });
    expect(h.counter('faas.invocations')).toBe(1);
    expect(h.histogram('faas.invoke_duration')?.sum).toBeCloseTo(0.008, 9);
  });

  it('counts Lambda dropping records and ignores events it cannot read', () => {
    const h = platformHarness();
    const returned = h.platform.handleEvents([
      {
        time: new Date(T0).toISOString(),
        type: 'platform.logsDropped',
        record: { droppedBytes: 100, droppedRecords: 3, reason: 'slow' },
      },
      { type: 'platform.start' },
      'garbage',
      functionLog(T0, 'hello'),
      runtimeDone(T0 + 5, 'x', 5),
    ]);
    expect(returned).toEqual(['x']);
    h.platform.flush();
    expect(h.counter('aws.lambda.telemetry.dropped_records')).toBe(3);
    expect(h.platform.stats().malformed).toBe(2);
  });
});

describe('platform module at SHUTDOWN', () => {
  it('waits for the events in flight, and no longer than the deadline', async () => {
    const h = platformHarness({ now: Date.now });
    const t = Date.now();
    h.platform.noteInvoke({ requestId: 'last', deadlineMs: t + 60_000 });
    h.platform.handleEvents([start(t, 'last'), runtimeDone(t + 5, 'last', 5)]);
    expect(h.platform.awaitingEvents()).toBe(true);
    const settled = h.platform.settle(Date.now() + 5_000);
    setTimeout(
      () =>
        h.platform.handleEvents([report(t + 7, 'last', { durationMs: 7, billedDurationMs: 7, maxMemoryUsedMB: 64 })]),
      20,
    );
    const began = Date.now();
    await settled;
    expect(Date.now() - began).toBeLessThan(4_000);
    expect(h.platform.awaitingEvents()).toBe(false);

    h.platform.handleEvents([start(t + 100, 'never-reported')]);
    const waitedFrom = Date.now();
    await h.platform.settle(Date.now() + 50);
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(40);
    expect(h.platform.awaitingEvents()).toBe(true);
  });

  it('with platform events expected, waits for invocations known only from INVOKE and reports what never came', async () => {
    const missing: MissingEvents[] = [];
    const h = platformHarness({
      now: Date.now,
      platformEventsExpected: () => true,
      onMissingEvents: (m) => missing.push(m),
    });
    const t = Date.now();
    h.platform.noteInvoke({ requestId: 'delivered-late', deadlineMs: t + 60_000 });
    h.platform.noteInvoke({ requestId: 'never-delivered', deadlineMs: t + 60_000 });
    expect(h.platform.awaitingEvents()).toBe(true);
    const settled = h.platform.settle(Date.now() + 300);
    setTimeout(
      () =>
        h.platform.handleEvents([
          start(t, 'delivered-late'),
          runtimeDone(t + 5, 'delivered-late', 5),
          report(t + 7, 'delivered-late', { durationMs: 7, billedDurationMs: 7, maxMemoryUsedMB: 64 }),
          start(t + 10, 'never-delivered'),
        ]),
      20,
    );
    await settled;
    expect(h.platform.awaitingEvents()).toBe(true);
    h.platform.flush({ final: true });
    expect(missing).toEqual([{ invocations: 1, start: 0, runtimeDone: 1, report: 1 }]);
    expect(h.counter('faas.invocations')).toBe(1);
  });

  it('counts an invocation past its deadline with no runtimeDone or report as a timeout, and one without a deadline as neither', () => {
    const h = platformHarness();
    h.platform.noteInvoke({ requestId: 'hung', deadlineMs: T0 + 1_000 });
    h.platform.handleEvents([start(T0, 'hung')]);
    h.platform.handleEvents([start(T0 + 100, 'unknown')]);
    h.clock.now = T0 + 2_000;
    h.platform.flush({ final: true });
    expect(h.counter('faas.timeouts')).toBe(1);
    expect(h.counter('faas.invocations')).toBe(0);
    expect(h.counter('faas.errors')).toBe(0);
  });
});

describe('platform module without platform events', () => {
  it('counts nothing for invocations known only from INVOKE', () => {
    const h = platformHarness();
    for (let i = 0; i < 3; i++) h.platform.noteInvoke({ requestId: `only-invoke-${i}`, deadlineMs: T0 + 1_000 });
    expect(h.platform.awaitingEvents()).toBe(false);
    h.clock.now = T0 + 5_000;
    h.platform.flush({ final: true });
    expect(h.counter('faas.invocations')).toBe(0);
    expect(h.counter('faas.timeouts')).toBe(0);
    expect(h.spans()).toHaveLength(0);
  });
});
