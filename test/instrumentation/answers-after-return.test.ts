/**
 * The end-of-invocation flush does not wait for the extension's answers: with
 * a stand-in receiver that takes pipelined requests one at a time in order (as
 * the extension's does) and answers each only 200 ms later, the wrapped
 * handler's result comes back before any answer; the exports and then the
 * flushed notice arrive in that order on one connection; a refusal that comes
 * after the result is one line on stderr, never an exception, and the next
 * invocation's exports still go.
 */

import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeRequest } from '../../extension-src/otlp/proto.js';
import { startTelemetry, wrapHandler } from '../../instrumentation-src/index.js';
import { loopbackSettled } from '../../instrumentation-src/loopback/connection.js';
import { attribute, hex, lambdaContext, lambdaEnvironment } from './helpers.js';

const ANSWER_DELAY_MS = 200;

/** A receiver that reads pipelined requests one at a time and answers each ANSWER_DELAY_MS after it came. */
class SlowReceiver {
  /** What happened, in order, on both sides (the test adds the runtime's "result"). */
  readonly events: string[] = [];
  readonly requests: { path: string; body: Buffer }[] = [];
  connections = 0;
  status: (path: string) => number = () => 200;
  private readonly sockets: Socket[] = [];
  private readonly server: Server = createServer((socket) => this.serve(socket));

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.connections++;
    this.sockets.push(socket);
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    let busy = false;
    const next = () => {
      if (busy) return;
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.toString('latin1', 0, end);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      const path = head.split(' ')[1];
      this.requests.push({ path, body: Buffer.from(buffer.subarray(end + 4, end + 4 + length)) });
      this.events.push(`received ${path}`);
      buffer = buffer.subarray(end + 4 + length);
      busy = true;
      setTimeout(() => {
        const status = this.status(path);
        this.events.push(`answered ${path}`);
        socket.write(
          `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Internal Server Error'}\r\nContent-Length: 0\r\n\r\n`,
        );
        busy = false;
        next();
      }, ANSWER_DELAY_MS);
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      next();
    });
  }
}

const receiver = new SlowReceiver();

beforeAll(async () => {
  await receiver.start();
  // The OTLP endpoint and the notice on the one receiver port, as with the extension.
  Object.assign(process.env, lambdaEnvironment(`http://127.0.0.1:${receiver.port}`, receiver.port), {
    OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'none',
  });
  startTelemetry();
});

afterAll(async () => {
  await loopbackSettled();
  await receiver.stop();
});

/** The spans in the traces requests received so far. */
function spansReceived() {
  return receiver.requests
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) => decodeRequest('traces', r.body).resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans ?? [])
    .flatMap((ss) => ss.spans ?? []);
}

/** The invocation ids of the spans in the traces requests received so far. */
function invocationsWithSpans(): unknown[] {
  return spansReceived().map((s) => attribute(s.attributes, 'faas.invocation_id'));
}

/** The last request is the flushed notice of `requestId`, carrying the trace and span ids of its invocation span. */
function expectNoticeOf(requestId: string): void {
  const span = spansReceived().find((s) => attribute(s.attributes, 'faas.invocation_id') === requestId);
  expect(span).toBeDefined();
  expect(JSON.parse(receiver.requests.at(-1)?.body.toString() ?? '{}')).toMatchObject({
    requestId,
    traceId: hex(span?.traceId),
    functionSpanId: hex(span?.spanId),
  });
}

/** Made once the SDK has started (beforeAll): wrapping starts the SDK with whatever environment it finds. */
function placeOrders() {
  const counter = metrics.getMeter('orders').createCounter('orders.placed');
  return wrapHandler(async (event: { n: number }, _context: unknown) => {
    counter.add(event.n);
    return { placed: event.n };
  });
}

describe('a wrapped handler against a receiver that answers 200 ms late', () => {
  it('gets its result back before any answer, and the data arrives before the notice', async () => {
    const handler = placeOrders();
    const context = lambdaContext();
    const from = receiver.events.length;
    const result = await handler({ n: 2 }, context);
    receiver.events.push('result');
    await loopbackSettled();

    expect(result).toEqual({ placed: 2 });
    const events = receiver.events.slice(from);
    // The runtime had the result before the receiver answered anything.
    expect(events.findIndex((e) => e.startsWith('answered'))).toBeGreaterThan(events.indexOf('result'));
    // The process's first invocation says it started; then traces and metrics (either order), then the notice,
    // on one connection.
    const received = events.filter((e) => e.startsWith('received')).map((e) => e.slice('received '.length));
    expect(received[0]).toBe('/observed/v1/started');
    expect(received.slice(1, 3).sort()).toEqual(['/v1/metrics', '/v1/traces']);
    expect(received.slice(3)).toEqual(['/observed/v1/flushed']);
    expectNoticeOf(context.awsRequestId);
    expect(invocationsWithSpans()).toContain(context.awsRequestId);
    expect(receiver.connections).toBe(1);
  });

  it('reports a refusal that comes after the result in one line, and the next invocation still exports', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const handler = placeOrders();
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string, ...rest: never[]) => {
      if (String(chunk).startsWith('observed-lambda instrumentation:')) lines.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write);
    try {
      receiver.status = (path) => (path === '/v1/traces' ? 500 : 200);
      const refused = lambdaContext();
      expect(await handler({ n: 1 }, refused)).toEqual({ placed: 1 });
      receiver.events.push('result');
      // Nothing said yet: the refusal is still on its way.
      expect(lines).toEqual([]);
      await loopbackSettled();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('/v1/traces refused an export (later ones are not reported): 500');

      receiver.status = () => 200;
      const next = lambdaContext();
      expect(await handler({ n: 1 }, next)).toEqual({ placed: 1 });
      await loopbackSettled();
      expect(invocationsWithSpans()).toContain(next.awsRequestId);
      expectNoticeOf(next.awsRequestId);
      expect(lines).toHaveLength(1);
      expect(receiver.connections).toBe(1);
    } finally {
      spy.mockRestore();
    }
  });
});
