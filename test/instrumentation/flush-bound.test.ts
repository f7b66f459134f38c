/**
 * The end-of-invocation flush when the backend does not answer: the handler's
 * result still comes back unchanged, within the invocation's remaining time
 * and the configured flush timeout, and no flushed notice claims otherwise.
 * The backend is on 127.0.0.2: not one of the names the loopback transport
 * takes (whose exports are done once written, answer or not), so the SDK's
 * exporter waits for the answer, as it does for any endpoint elsewhere.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, wrapHandler } from '../../instrumentation-src/index.js';
import { lambdaContext, lambdaEnvironment, NoticeReceiver } from './helpers.js';

const notices = new NoticeReceiver();
let stalled = 0;
/** Accepts OTLP requests and never answers them. */
const blackHole: Server = createServer(() => {
  stalled++;
});

const FLUSH_TIMEOUT_MS = 700;

beforeAll(async () => {
  await notices.start();
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.2', resolve));
  const url = `http://127.0.0.2:${(blackHole.address() as AddressInfo).port}`;
  Object.assign(process.env, lambdaEnvironment(url, notices.port), {
    OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'none',
    // Far beyond the flush bound: only the wrapper's own deadline can end the wait.
    OTEL_EXPORTER_OTLP_TIMEOUT: '20000',
  });
  startTelemetry({ flushTimeoutMs: FLUSH_TIMEOUT_MS });
});

afterAll(async () => {
  blackHole.closeAllConnections();
  await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  await notices.stop();
});

describe('flush against a backend that never answers', () => {
  it('returns the result once the flush timeout has passed, without a flushed notice', async () => {
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => ({ statusCode: 201 }));
    const context = lambdaContext(60_000);
    const started = Date.now();

    const result = await handler({}, context);

    const elapsed = Date.now() - started;
    expect(result).toEqual({ statusCode: 201 });
    expect(stalled).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(FLUSH_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(10_000);
    expect(notices.requestIds).not.toContain(context.awsRequestId);
  });

  it('stops waiting before the invocation runs out of time', async () => {
    const handler = wrapHandler(async (_event: unknown, _context: unknown) => 'done');
    // Less time left than the flush timeout: the remaining time is the bound.
    const context = lambdaContext(400);
    const result = await handler({}, context);
    expect(result).toBe('done');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('does not wait at all when the invocation has no time left', async () => {
    const handler = wrapHandler((_event: unknown, _context: unknown, callback: (e: unknown, r: unknown) => void) =>
      callback(null, 'late'),
    );
    const context = lambdaContext(20);
    const result = await new Promise((resolve) => handler({}, context, (_e: unknown, r: unknown) => resolve(r)));
    expect(result).toBe('late');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(-50);
  });
});
