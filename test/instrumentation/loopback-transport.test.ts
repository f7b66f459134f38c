/**
 * The OTLP exporters' loopback transport (instrumentation-src/loopback/)
 * against real local servers: spans and metrics arrive over one kept-alive
 * connection; an export is done once written, and a refusal (400, 500) or a
 * connection closed before the answer is reported on stderr once, never sent
 * again, never an exception, and the next export still goes (on a new
 * connection if need be); a server that does not read or does not listen
 * gives a failed export; endpoints elsewhere keep the SDK's exporter; and in
 * a function process with the http instrumentation on, the exports leave no
 * span. Writes held by the end-of-invocation flush go out together at the
 * release, in order.
 */
import { spawn } from 'node:child_process';
import diagnostics_channel from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it, vi } from 'vitest';
import { SpanKind } from '../../extension-src/otlp/types.js';
import {
  holdLoopbackWrites,
  LoopbackConnection,
  loopbackConnection,
  loopbackSettled,
  parseAnswer,
} from '../../instrumentation-src/loopback/connection.js';
import { metricExporter, spanExporter } from '../../instrumentation-src/sdk/exporters.js';
import { attribute, instrumentationStderr, useCleanups } from './helpers.js';

const { cleanups, startSink } = useCleanups();

function useEndpoint(url: string): void {
  vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', url);
}

/** Finished spans to hand to an exporter directly. */
function someSpans(name: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  provider.getTracer('test').startSpan(name).end();
  return memory.getFinishedSpans();
}

function exportSpans(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

/** An HTTP server answering every POST with the current `status`, counting connections. */
async function answeringServer(): Promise<{ url: string; status: number; connections: number; paths: string[] }> {
  const state = { url: '', status: 200, connections: 0, paths: [] as string[] };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.paths.push(req.url ?? '');
      res.writeHead(state.status, { 'content-type': 'text/plain' }).end(state.status < 300 ? '' : 'refused');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe('answer parser', () => {
  const bytes = (text: string) => Buffer.from(text, 'latin1');
  const parsed = (text: string, closed = false) => {
    const result = parseAnswer(bytes(text), closed);
    if (result === undefined || result instanceof Error) return result;
    return {
      status: result.answer.status,
      body: result.answer.body.toString(),
      consumed: result.consumed,
      keep: result.keep,
    };
  };

  it('reads content-length and chunked bodies, and waits for the rest of an answer', () => {
    const lengthAnswer = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
    expect(parsed(lengthAnswer)).toEqual({ status: 200, body: 'abc', consumed: lengthAnswer.length, keep: true });
    expect(parsed(lengthAnswer.slice(0, -1))).toBeUndefined();
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n';
    expect(parsed(chunked)).toEqual({ status: 200, body: 'abc', consumed: chunked.length, keep: true });
    for (let cut = 1; cut < chunked.length; cut++) expect(parsed(chunked.slice(0, cut))).toBeUndefined();
  });

  it('reads the first of two answers in one buffer and says where the second starts', () => {
    const first = 'HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n';
    expect(parsed(`${first}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`)).toEqual({
      status: 204,
      body: '',
      consumed: first.length,
      keep: true,
    });
  });

  it('skips 100 Continue, ends a body without length at the close, and honours connection: close', () => {
    expect(parsed('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n')).toMatchObject({
      status: 201,
    });
    expect(parsed('HTTP/1.1 200 OK\r\n\r\nuntil the end')).toBeUndefined();
    expect(parsed('HTTP/1.1 200 OK\r\n\r\nuntil the end', true)).toMatchObject({ body: 'until the end', keep: false });
    expect(parsed('HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')).toMatchObject({
      status: 503,
      keep: false,
    });
  });

  it('rejects what is not an HTTP/1.1 answer', () => {
    expect(parsed('SSH-2.0-OpenSSH_9.6\r\n\r\n')).toBeInstanceOf(Error);
    expect(parsed('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toBeInstanceOf(Error);
    expect(parsed('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toBeInstanceOf(Error);
  });
});

describe('loopback OTLP transport', () => {
  it('takes the place of node:http for endpoints on this host only', async () => {
    useEndpoint('http://localhost:4318');
    expect(spanExporter()).not.toBeInstanceOf(OTLPTraceExporter);
    useEndpoint('http://[::1]:4318');
    expect(spanExporter()).not.toBeInstanceOf(OTLPTraceExporter);
    useEndpoint('https://127.0.0.1:4318');
    expect(spanExporter()).toBeInstanceOf(OTLPTraceExporter);
    useEndpoint('http://otel-collector.internal:4318');
    expect(spanExporter()).toBeInstanceOf(OTLPTraceExporter);
    useEndpoint('http://127.0.0.1:4318');
    vi.stubEnv('OTEL_EXPORTER_OTLP_COMPRESSION', 'gzip');
    expect(spanExporter()).toBeInstanceOf(OTLPTraceExporter);
  });

  it('delivers spans and metrics with the SDK serializer, over one kept-alive connection', async () => {
    const sink = await startSink();
    let connections = 0;
    // biome-ignore lint/suspicious/noExplicitAny: the sink's server is private; counting its connections is test-only.
    (sink as any).server.on('connection', () => connections++);
    useEndpoint(sink.url);
    // node:http announces every client request here; the transport must make none.
    let httpClientRequests = 0;
    const onRequest = () => httpClientRequests++;
    diagnostics_channel.subscribe('http.client.request.start', onRequest);
    cleanups.push(async () => {
      diagnostics_channel.unsubscribe('http.client.request.start', onRequest);
    });

    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter())] });
    const meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter: metricExporter(), exportIntervalMillis: 3_600_000 })],
    });
    const counter = meterProvider.getMeter('orders').createCounter('orders.placed');
    for (let i = 0; i < 3; i++) {
      tracerProvider.getTracer('orders').startSpan(`order ${i}`).end();
      counter.add(2);
      // As at the end of an invocation: both exports at once, on the one connection.
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    }
    // Written is done for the exporters; the sink has them once it has answered.
    await loopbackSettled();

    expect(sink.spans().map((s) => s.name)).toEqual(['order 0', 'order 1', 'order 2']);
    const placed = sink.metrics().filter((m) => m.name === 'orders.placed');
    // A counter's values are doubles unless declared as integers.
    expect(placed.map((m) => Number(m.sum?.dataPoints?.[0]?.asDouble))).toEqual([2, 4, 6]);
    expect(sink.received.every((r) => r.contentType === 'application/x-protobuf')).toBe(true);
    expect(connections).toBe(1);
    expect(httpClientRequests).toBe(0);
    await meterProvider.shutdown();
    await tracerProvider.shutdown();

    // The SDK's own exporter, to the same sink, goes through node:http (what the count above would show).
    await new Promise((resolve) =>
      new OTLPTraceExporter({ url: `${sink.url}/v1/traces` }).export(someSpans('sdk'), resolve),
    );
    expect(httpClientRequests).toBeGreaterThan(0);
  });

  it('counts refused exports as sent, reports the refusal once on stderr, and the connection carries on', async () => {
    const server = await answeringServer();
    useEndpoint(server.url);
    const exporter = spanExporter();
    const lines = instrumentationStderr();

    for (const status of [400, 500, 200, 200]) {
      server.status = status;
      // Done once written: the answer is not waited for.
      expect((await exportSpans(exporter, someSpans(`status ${status}`))).code).toBe(ExportResultCode.SUCCESS);
      await loopbackSettled();
    }

    expect(server.paths).toEqual(['/v1/traces', '/v1/traces', '/v1/traces', '/v1/traces']);
    // One line for the kind (refused), with the first refusal's status.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${server.url}/v1/traces refused an export`);
    expect(lines[0]).toContain('400 Bad Request');
    // A well-formed refusal leaves the connection usable, as node:http's agent keeps it.
    expect(server.connections).toBe(1);
  });

  it('reports an export whose connection closed before the answer, sends it only once, then connects again', async () => {
    let mode: 'close' | 'answer' = 'close';
    const sockets: Socket[] = [];
    let requests = 0;
    const server: NetServer = createNetServer((socket) => {
      sockets.push(socket);
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        // Pipelined requests may come in one chunk.
        for (;;) {
          const end = received.indexOf('\r\n\r\n');
          const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? 0);
          if (end < 0 || received.length < end + 4 + length) return;
          received = received.slice(end + 4 + length);
          requests++;
          if (mode === 'close') {
            socket.destroy();
            return;
          }
          socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    useEndpoint(url);
    const exporter = spanExporter();
    const lines = instrumentationStderr();

    // The server had it (it may have processed it): sent, and the lost answer reported, not sent again.
    expect((await exportSpans(exporter, someSpans('a'))).code).toBe(ExportResultCode.SUCCESS);
    await loopbackSettled();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`the connection to ${url}/v1/traces ended before the answer to an export`);

    mode = 'answer';
    expect((await exportSpans(exporter, someSpans('b'))).code).toBe(ExportResultCode.SUCCESS);
    expect((await exportSpans(exporter, someSpans('c'))).code).toBe(ExportResultCode.SUCCESS);
    await loopbackSettled();
    expect(requests).toBe(3);
    expect(sockets).toHaveLength(2);
    expect(lines).toHaveLength(1);
  });

  it('fails a request that cannot be written in time, and the next one goes on a new connection', async () => {
    const sockets: Socket[] = [];
    const server: NetServer = createNetServer((socket) => {
      sockets.push(socket);
      // The first connection is never read: its kernel buffers fill up.
      if (sockets.length === 1) {
        socket.pause();
        return;
      }
      socket.on('data', () => socket.write('HTTP/1.1 204 No Content\r\n\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const connection = new LoopbackConnection('127.0.0.1', (server.address() as AddressInfo).port);
    const head = (length: number) => `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`;
    const answers: unknown[] = [];

    // Far more than the loopback socket buffers hold.
    const big = Buffer.alloc(64 * 1024 * 1024);
    const stuck = await connection.send(head(big.length), big, 300, (answer) => answers.push(answer));
    expect(stuck.ok).toBe(false);

    let answered!: (status: number) => void;
    const status = new Promise<number>((resolve) => (answered = resolve));
    const next = await connection.send(head(2), Buffer.from('ok'), 1000, (a) => answered(a.ok ? a.status : 0));
    expect(next.ok).toBe(true);
    expect(await status).toBe(204);
    expect(sockets).toHaveLength(2);
    // A request that was not all written gets no answer report (its export already failed).
    expect(answers).toEqual([]);
    connection.close();
  });

  it('fails the export when nobody listens', async () => {
    const server = await answeringServer();
    const port = new URL(server.url).port;
    await cleanups.pop()!();
    useEndpoint(`http://127.0.0.1:${port}`);
    const result = await exportSpans(spanExporter(), someSpans('a'));
    expect(result.code).toBe(ExportResultCode.FAILED);
  });
});

describe('a function process with the http instrumentation', () => {
  /** Runs the fixture function (three invocations, each calling `probeUrl` with node:http) against `otlpUrl`. */
  async function runFunction(otlpUrl: string, probeUrl: string): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'loopback-export.ts')], {
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_FUNCTION_NAME: 'orders',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http',
        OBSERVED_RECEIVER_PORT: new URL(otlpUrl).port,
        PROBE_URL: probeUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    return { code, out };
  }

  it('traces the function own HTTP call but not the exports', async () => {
    const sink = await startSink();
    const probe = await answeringServer();
    const { code, out } = await runFunction(sink.url, `${probe.url}/probe`);
    expect(code, out).toBe(0);

    const spans = sink.spans();
    const invocations = spans.filter((s) => attribute(s.attributes, 'faas.invocation_id') !== undefined);
    expect(invocations).toHaveLength(3);
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
    // The instrumentation is on: each invocation's call to the probe has its span ...
    expect(clients).toHaveLength(3);
    expect(clients.every((s) => String(attribute(s.attributes, 'url.full')).endsWith('/probe'))).toBe(true);
    // ... and the exports, which reached the sink, have none.
    expect(sink.received.length).toBeGreaterThan(0);
  });

  it('answers every invocation when the endpoint refuses or drops the exports', async () => {
    const refusing = await answeringServer();
    refusing.status = 500;
    const probe = await answeringServer();
    const { code, out } = await runFunction(refusing.url, `${probe.url}/probe`);
    expect(code, out).toBe(0);
    expect(out).toContain('[{"n":1,"probe":200},{"n":2,"probe":200},{"n":3,"probe":200}]');
    expect(out).toContain('refused an export (later ones are not reported): 500 Internal Server Error');
    expect(refusing.paths.filter((p) => p === '/v1/traces').length).toBeGreaterThanOrEqual(3);
  });
});

describe('held writes (the end-of-invocation flush)', () => {
  /** A server that answers 204 to every request and records what it read, chunk by chunk. */
  async function recordingServer(): Promise<{ port: number; chunks: string[] }> {
    const state = { port: 0, chunks: [] as string[] };
    const sockets: Socket[] = [];
    const server: NetServer = createNetServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => {
        state.chunks.push(chunk.toString('latin1'));
        const requests = chunk.toString('latin1').split('POST ').length - 1;
        socket.write('HTTP/1.1 204 No Content\r\n\r\n'.repeat(requests));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    state.port = (server.address() as AddressInfo).port;
    return state;
  }

  const request = (path: string, body: string) =>
    [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, Buffer.from(body)] as const;

  it('counts requests as sent at once and writes them together, in order, at the release', async () => {
    const server = await recordingServer();
    const connection = loopbackConnection('127.0.0.1', server.port);
    const statuses: number[] = [];
    const onAnswer = (answer: { ok: boolean; status?: number }) => statuses.push(answer.ok ? answer.status! : 0);

    const release = holdLoopbackWrites();
    expect((await connection.send(...request('/v1/traces', 'spans'), 1000, onAnswer)).ok).toBe(true);
    expect((await connection.send(...request('/observed/v1/flushed', 'notice'), 1000, onAnswer)).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.chunks).toEqual([]);

    expect(await release()).toEqual({ ok: true });
    await loopbackSettled();
    const received = server.chunks.join('');
    expect(received.indexOf('POST /v1/traces')).toBe(0);
    expect(received.indexOf('spans')).toBeLessThan(received.indexOf('POST /observed/v1/flushed'));
    expect(received.endsWith('notice')).toBe(true);
    expect(statuses).toEqual([204, 204]);

    // Released: the next request is written at once again.
    const before = server.chunks.length;
    expect((await connection.send(...request('/v1/traces', 'more'), 1000)).ok).toBe(true);
    await loopbackSettled();
    expect(server.chunks.length).toBeGreaterThan(before);
  });

  it('resolves the release with the failure when the held requests cannot be written', async () => {
    const server = await recordingServer();
    const port = server.port;
    await cleanups.pop()!();
    const connection = new LoopbackConnection('127.0.0.1', port);
    const release = holdLoopbackWrites();
    expect((await connection.send(...request('/v1/traces', 'spans'), 500)).ok).toBe(true);
    const written = await release();
    expect(written.ok).toBe(false);
    // The hold is off: a request now fails by itself.
    expect((await connection.send(...request('/v1/traces', 'spans'), 500)).ok).toBe(false);
  });
});
