import { describe, expect, it } from 'vitest';
import type { TelemetryEvent } from '../../sandbox/index.js';
import { parseSubscription } from '../../sandbox/telemetry-api.js';
import { platformEvent, readRecords, receivedTelemetry, useRecordingEnvironments } from './helpers.js';

const suite = useRecordingEnvironments({ shutdownDeadlineMs: 500 });

const subscription = (buffering?: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    schemaVersion: '2022-12-13',
    types: ['platform', 'function'],
    ...(buffering === undefined ? {} : { buffering }),
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243' },
    ...extra,
  });

describe('Telemetry API subscription validation', () => {
  it('applies Lambda defaults and accepts the documented ranges', () => {
    const ok = parseSubscription(subscription());
    expect(ok).toMatchObject({
      ok: true,
      subscription: { buffering: { maxItems: 10_000, maxBytes: 262_144, timeoutMs: 1_000 } },
    });
    expect(parseSubscription(subscription({ maxItems: 1000, maxBytes: 1_048_576, timeoutMs: 25 })).ok).toBe(true);
    expect(parseSubscription(subscription({ maxItems: 10_000, maxBytes: 262_144, timeoutMs: 30_000 })).ok).toBe(true);
  });

  it.each([
    [{ maxItems: 999 }, 'buffering.maxItems must be an integer between 1000 and 10000'],
    [{ maxItems: 10_001 }, 'buffering.maxItems'],
    [{ maxBytes: 262_143 }, 'buffering.maxBytes must be an integer between 262144 and 1048576'],
    [{ maxBytes: 1_048_577 }, 'buffering.maxBytes'],
    [{ timeoutMs: 24 }, 'buffering.timeoutMs must be an integer between 25 and 30000'],
    [{ timeoutMs: 30_001 }, 'buffering.timeoutMs'],
    [{ timeoutMs: 100.5 }, 'buffering.timeoutMs'],
    [{ maxItems: '2000' }, 'buffering.maxItems'],
  ])('rejects buffering %j', (buffering, message) => {
    const r = parseSubscription(subscription(buffering));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.errorMessage).toContain(message);
  });

  it.each([
    ['not json', 'Invalid JSON'],
    [subscription(undefined, { schemaVersion: '2020-01-01' }), 'schemaVersion'],
    [subscription(undefined, { types: ['platform', 'bogus'] }), 'types'],
    [subscription(undefined, { types: [] }), 'types'],
    [
      subscription(undefined, { destination: { protocol: 'HTTPS', URI: 'http://sandbox.localdomain:1' } }),
      'destination.protocol',
    ],
    [subscription(undefined, { destination: { protocol: 'HTTP', URI: 'http://example.com:1' } }), 'destination.URI'],
    [JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'] }), 'destination is required'],
  ])('rejects malformed body %#', (body, message) => {
    const r = parseSubscription(body);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.errorMessage).toContain(message);
  });

  it('answers an out-of-range subscription with 400 {errorType, errorMessage} over HTTP', async () => {
    const env = await suite.start({ TEST_EXT_BUFFERING: JSON.stringify({ maxItems: 10 }) });
    const sub = readRecords(suite.recordFile).find((r) => r.kind === 'subscribe');
    expect(sub).toMatchObject({
      status: 400,
      body: {
        errorType: 'ValidationError',
        errorMessage: 'buffering.maxItems must be an integer between 1000 and 10000',
      },
    });
    expect(env.events.map((e) => e.type)).toContain('telemetry.subscribe-rejected');
  });
});

describe('Extensions and Runtime API error responses', () => {
  it('answers wrong identifiers, late registrations and wrong request ids as Lambda does', async () => {
    const env = await suite.start({});
    const base = `http://${env.runtimeApiAddress}`;
    const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
      const res = await fetch(base + path, { method, headers, body });
      return { status: res.status, body: await res.json() };
    };
    expect(await call('GET', '/2020-01-01/extension/event/next')).toEqual({
      status: 403,
      body: {
        errorType: 'Extension.MissingExtensionIdentifier',
        errorMessage: 'Missing Lambda-Extension-Identifier header',
      },
    });
    expect(
      await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': 'not-a-uuid' }),
    ).toEqual({
      status: 403,
      body: { errorType: 'Extension.InvalidExtensionIdentifier', errorMessage: 'Invalid Lambda-Extension-Identifier' },
    });
    const unknown = '8476a536-e9f4-11e8-9739-2dfe598c3fcd';
    expect(await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': unknown })).toEqual({
      status: 403,
      body: { errorType: 'Extension.UnknownExtensionIdentifier', errorMessage: `Unknown extension ${unknown}` },
    });
    expect(
      await call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': unknown }, subscription()),
    ).toMatchObject({
      status: 403,
      body: { errorType: 'Extension.UnknownExtensionIdentifier' },
    });
    expect(await call('POST', '/2020-01-01/extension/register', {}, '{"events":["INVOKE"]}')).toEqual({
      status: 403,
      body: { errorType: 'Extension.InvalidExtensionName', errorMessage: 'Empty extension name' },
    });
    expect(
      await call(
        'POST',
        '/2020-01-01/extension/register',
        { 'Lambda-Extension-Name': 'late' },
        '{"events":["INVOKE"]}',
      ),
    ).toEqual({
      status: 403,
      body: { errorType: 'Extension.RegistrationClosed', errorMessage: 'Extension registration closed already' },
    });
    expect(await call('POST', '/2018-06-01/runtime/invocation/nope/response', {}, '{}')).toEqual({
      status: 400,
      body: { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' },
    });
    // The extension's own identifier is fine for a subscription, but init (and with it the subscription window) is over.
    const id = env.events.find((e) => e.type === 'extension.register')?.data?.id as string;
    expect(
      await call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': id }, subscription()),
    ).toMatchObject({
      status: 403,
      body: { errorType: 'Telemetry.SubscriptionClosed' },
    });
    // The environment still works.
    expect((await env.invoke({})).status).toBe('success');
  });
});

describe('Telemetry API delivery', () => {
  it('holds events for timeoutMs before it delivers them', async () => {
    const env = await suite.start({ TEST_EXT_BUFFERING: JSON.stringify({ timeoutMs: 300 }), TEST_EXT_WORK_MS: '700' });
    // The first invocation flushes the init events; the batch under test starts with the second's platform.start.
    await env.invoke({});
    await new Promise((resolve) => setTimeout(resolve, 400));
    const r = await env.invoke({});
    const startEvent = r.events.find((e) => platformEvent(e, 'platform.start', r.requestId))!;
    const delivery = env.events.find(
      (e) =>
        e.type === 'telemetry.delivery' &&
        ((e.data?.events ?? []) as TelemetryEvent[]).some(
          (x) => x.type === 'platform.start' && (x.record as { requestId: string }).requestId === r.requestId,
        ),
    )!;
    expect(delivery.timeMs - startEvent.timeMs).toBeGreaterThanOrEqual(290);
    // The runtime's events of the same window went in the same POST.
    const types = ((delivery.data?.events ?? []) as TelemetryEvent[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['platform.start', 'function', 'platform.runtimeDone']));
  });

  it('splits deliveries at maxBytes', async () => {
    const env = await suite.start(
      {
        TEST_EXT_BUFFERING: JSON.stringify({ maxBytes: 262_144, timeoutMs: 5000 }),
        TEST_EXT_TYPES: 'function',
        // Keeps the environment thawed while the deliveries arrive.
        TEST_EXT_WORK_MS: '1000',
      },
      { handler: 'index.logsMuch', timeoutMs: 10_000 },
    );
    await env.invoke({ lines: 600, size: 1000 });
    // The last batch waits for its timeout (5 s, after the freeze); only the size-driven ones count here.
    const deliveries = env.events.filter((e) => e.type === 'telemetry.delivery');
    const sizeDriven = deliveries.filter((e) => (e.data?.bytes as number) > 200_000);
    expect(sizeDriven.length).toBeGreaterThanOrEqual(2);
    for (const d of deliveries) expect(d.data?.bytes as number).toBeLessThanOrEqual(262_144);
    const lines = receivedTelemetry(readRecords(suite.recordFile)).filter((e) => e.type === 'function');
    expect(lines.length).toBe(deliveries.reduce((n, d) => n + (d.data?.count as number), 0));
    expect(lines.length).toBeGreaterThanOrEqual(400);
  });

  it('drops log records a slow listener cannot take, and says so with platform.logsDropped', async () => {
    const env = await suite.start(
      {
        TEST_EXT_BUFFERING: JSON.stringify({ timeoutMs: 25 }),
        TEST_EXT_SLOW_MS: '400',
        // runtimeDone comes after every log record (and the drop notice): all has arrived when it does.
        TEST_EXT_WAIT_RUNTIME_DONE: '1',
      },
      { handler: 'index.logsMuch', timeoutMs: 10_000 },
    );
    const r = await env.invoke({ lines: 3000, size: 1000 });
    expect(r.status).toBe('success');
    const received = receivedTelemetry(readRecords(suite.recordFile));
    const dropped = received.filter((e) => e.type === 'platform.logsDropped');
    expect(dropped.length).toBeGreaterThanOrEqual(1);
    const droppedRecords = dropped.reduce((n, e) => n + (e.record as { droppedRecords: number }).droppedRecords, 0);
    expect(dropped[0].record).toMatchObject({
      droppedBytes: expect.any(Number),
      reason: expect.stringContaining('slower'),
    });
    const lines = received.filter((e) => e.type === 'function' && String(e.record).includes('x'.repeat(100)));
    expect(droppedRecords).toBeGreaterThan(0);
    expect(lines.length + droppedRecords).toBe(3000);
    // Platform events are never dropped.
    expect(received.some((e) => e.type === 'platform.runtimeDone')).toBe(true);
  });

  it('delivers function log records as objects when the function logs JSON', async () => {
    const env = await suite.start(
      { TEST_EXT_WAIT_RUNTIME_DONE: '1' },
      { handler: 'index.logsJson', logFormat: 'JSON' },
    );
    const r = await env.invoke({});
    const fn = receivedTelemetry(readRecords(suite.recordFile)).filter((e) => e.type === 'function');
    expect(fn.map((e) => e.record)).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'structured 42', requestId: r.requestId }),
      expect.objectContaining({ level: 'WARN', message: 'careful', requestId: r.requestId }),
    ]);
  });
});
