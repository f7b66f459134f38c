/**
 * The OTLP/HTTP receiver: the real OpenTelemetry JS exporters (protobuf and
 * JSON) export to it, and every kind of bad request gets its 4xx while valid
 * requests right after still go through.
 */
import { connect, createServer, type Server } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OtlpPayload } from '../../../extension-src/contracts/payload.js';
import { decodeRequest } from '../../../extension-src/otlp/proto.js';
import { HttpReceiver } from '../../../extension-src/receiver/http/server.js';
import { createLogger } from '../../../extension-src/self-telemetry/log.js';
import { httpRequest } from '../../support/http.js';
import { sdkRequests } from '../../support/otlp-fixtures.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

describe('OTLP/HTTP receiver', () => {
  const accepted: OtlpPayload[] = [];
  const flushed: string[] = [];
  const traces: { id: string; how: string; traceId: string }[] = [];
  const logLines: string[] = [];
  /** Sink calls in the order they were made. */
  const order: string[] = [];
  const receiver = new HttpReceiver({
    port: 0,
    hosts: ['127.0.0.1'],
    maxBodyBytes: 256 * 1024,
    maxDecompressedBytes: 1024 * 1024,
    sink: {
      accept: (p) => {
        accepted.push(p);
        order.push(`accept ${p.signal}`);
      },
      flushed: (id, trace) => {
        flushed.push(id);
        order.push(`flushed ${id}`);
        if (trace) traces.push({ id, how: 'flushed', traceId: Buffer.from(trace.traceId).toString('hex') });
      },
      started: (id, trace) => {
        traces.push({ id, how: 'started', traceId: Buffer.from(trace.traceId).toString('hex') });
      },
    },
    log: createLogger('debug', (line) => logLines.push(line)),
  });
  let base = '';
  let fixtures: Awaited<ReturnType<typeof sdkRequests>>;

  beforeAll(async () => {
    await receiver.start();
    base = `http://127.0.0.1:${receiver.port}`;
    fixtures = await sdkRequests({ spans: 4, series: 2, logs: 3 });
  });
  afterAll(() => receiver.stop());

  /** Sends a valid traces request and checks that it was taken. */
  async function validRequestStillWorks(): Promise<void> {
    const before = accepted.length;
    const answer = await httpRequest(`${base}/v1/traces`, { headers: PROTO, body: fixtures.traces.protobuf });
    expect(answer.status).toBe(200);
    expect(accepted.length).toBe(before + 1);
  }

  it('takes spans from the OpenTelemetry SDK exporters, protobuf and JSON, and answers them success', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracer = provider.getTracer('t');
    for (let i = 0; i < 3; i++) tracer.startSpan(`span ${i}`).end();
    const spans = memory.getFinishedSpans();
    for (const exporter of [
      new ProtoTraceExporter({ url: `${base}/v1/traces` }),
      new JsonTraceExporter({ url: `${base}/v1/traces` }),
    ]) {
      const before = accepted.length;
      const result = await new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(accepted.length).toBe(before + 1);
      const payload = accepted[accepted.length - 1];
      expect(payload.signal).toBe('traces');
      expect(payload.items).toBe(3);
      const names = decodeRequest('traces', payload.bytes).resourceSpans![0].scopeSpans![0].spans!.map((s) => s.name);
      expect(names.sort()).toEqual(['span 0', 'span 1', 'span 2']);
      await exporter.shutdown();
    }
  });

  it('answers with the response message in the request content type', async () => {
    const proto = await httpRequest(`${base}/v1/metrics`, { headers: PROTO, body: fixtures.metrics.protobuf });
    expect(proto.status).toBe(200);
    expect(proto.headers['content-type']).toBe('application/x-protobuf');
    expect(proto.body.length).toBe(0);
    const json = await httpRequest(`${base}/v1/logs`, { headers: JSON_TYPE, body: fixtures.logs.json });
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toEqual({});
    const last = accepted[accepted.length - 1];
    expect(last.signal).toBe('logs');
    expect(last.items).toBe(fixtures.logs.items);
    expect(decodeRequest('logs', last.bytes).resourceLogs).toHaveLength(1);
  });

  it('accepts gzip bodies', async () => {
    const answer = await httpRequest(`${base}/v1/traces`, {
      headers: { ...PROTO, 'content-encoding': 'gzip' },
      body: gzipSync(fixtures.traces.protobuf),
    });
    expect(answer.status).toBe(200);
    expect(Buffer.from(accepted[accepted.length - 1].bytes)).toEqual(Buffer.from(fixtures.traces.protobuf));
  });

  it('refuses malformed protobuf with 400 and a Status naming the problem', async () => {
    const garbled = Buffer.from(fixtures.traces.protobuf.subarray(0, fixtures.traces.protobuf.length - 3));
    const answer = await httpRequest(`${base}/v1/traces`, { headers: PROTO, body: garbled });
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/x-protobuf');
    // google.rpc.Status: field 1 code, field 2 message.
    expect(answer.body[0]).toBe(0x08);
    expect(answer.body.toString('utf8')).toContain('malformed OTLP traces protobuf');
    await validRequestStillWorks();
  });

  it('refuses malformed JSON and JSON of the wrong shape with 400 in JSON', async () => {
    const broken = await httpRequest(`${base}/v1/traces`, { headers: JSON_TYPE, body: '{"resourceSpans": [' });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body.toString()).message).toContain('malformed JSON');
    const shape = await httpRequest(`${base}/v1/traces`, {
      headers: JSON_TYPE,
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'not-hex' }] }] }] }),
    });
    expect(shape.status).toBe(400);
    expect(JSON.parse(shape.body.toString()).message).toContain('traceId');
    await validRequestStillWorks();
  });

  it('refuses other content types and encodings with 415', async () => {
    const text = await httpRequest(`${base}/v1/traces`, { headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(415);
    const none = await httpRequest(`${base}/v1/traces`, { body: fixtures.traces.protobuf });
    expect(none.status).toBe(415);
    const brotli = await httpRequest(`${base}/v1/traces`, {
      headers: { ...PROTO, 'content-encoding': 'br' },
      body: fixtures.traces.protobuf,
    });
    expect(brotli.status).toBe(415);
    await validRequestStillWorks();
  });

  it('refuses a gzip bomb with 413 without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const answer = await httpRequest(`${base}/v1/logs`, {
      headers: { ...PROTO, 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(answer.status).toBe(413);
    expect(answer.body.toString()).toContain('decompressed');
    await validRequestStillWorks();
  });

  it('refuses oversized bodies with 413, announced or streamed', async () => {
    const big = Buffer.alloc(300 * 1024, 1);
    const announced = await httpRequest(`${base}/v1/traces`, { headers: PROTO, body: big });
    expect(announced.status).toBe(413);
    const streamed = await httpRequest(`${base}/v1/traces`, { headers: PROTO, body: big, chunked: true }).catch(
      // The server may close the socket while the client still writes; a reset is an acceptable refusal too.
      (error: NodeJS.ErrnoException) => ({ status: error.code === 'ECONNRESET' || error.code === 'EPIPE' ? 413 : 0 }),
    );
    expect(streamed.status).toBe(413);
    await validRequestStillWorks();
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await httpRequest(`${base}/v1/profiles`, { headers: PROTO, body: '' })).status).toBe(404);
    const get = await httpRequest(`${base}/v1/traces`, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    await validRequestStillWorks();
  });

  it('takes the flushed notice with 204 and refuses a notice without a request id', async () => {
    const ok = await httpRequest(`${base}/observed/v1/flushed`, {
      headers: JSON_TYPE,
      body: JSON.stringify({ requestId: 'req-1' }),
    });
    expect(ok.status).toBe(204);
    expect(flushed).toEqual(['req-1']);
    const bad = await httpRequest(`${base}/observed/v1/flushed`, { headers: JSON_TYPE, body: '{"id": 1}' });
    expect(bad.status).toBe(400);
    expect(flushed).toEqual(['req-1']);
  });

  it("takes the trace fields of the flushed notice and the first invocation's started notice", async () => {
    const fields = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true };
    const started = await httpRequest(`${base}/observed/v1/started`, {
      headers: JSON_TYPE,
      body: JSON.stringify({ requestId: 'req-t', ...fields }),
    });
    expect(started.status).toBe(204);
    const ok = await httpRequest(`${base}/observed/v1/flushed`, {
      headers: JSON_TYPE,
      body: JSON.stringify({ requestId: 'req-t', ...fields }),
    });
    expect(ok.status).toBe(204);
    expect(traces).toEqual([
      { id: 'req-t', how: 'started', traceId: fields.traceId },
      { id: 'req-t', how: 'flushed', traceId: fields.traceId },
    ]);
    // A started notice is only its trace: without valid ids it is refused, and completes nothing.
    const bad = await httpRequest(`${base}/observed/v1/started`, {
      headers: JSON_TYPE,
      body: JSON.stringify({ requestId: 'req-u', traceId: 'zz' }),
    });
    expect(bad.status).toBe(400);
    expect(flushed).not.toContain('req-u');
  });

  it('takes requests pipelined on one connection in order: a notice written behind gzip exports comes after them', async () => {
    const head = (path: string, headers: Record<string, string>, body: Uint8Array) =>
      Buffer.concat([
        Buffer.from(
          `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('')}Content-Length: ${body.length}\r\n\r\n`,
        ),
        body,
      ]);
    const gzipHeaders = { ...PROTO, 'content-encoding': 'gzip' };
    const notice = Buffer.from(JSON.stringify({ requestId: 'req-pipelined' }));
    const wire = Buffer.concat([
      head('/v1/traces', gzipHeaders, gzipSync(fixtures.traces.protobuf)),
      head('/v1/metrics', gzipHeaders, gzipSync(fixtures.metrics.protobuf)),
      head('/observed/v1/flushed', JSON_TYPE, notice),
    ]);
    order.length = 0;
    // Written at once and kept open (a client that half-closes gets its answers dropped by node:http).
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(receiver.port!, '127.0.0.1', () => socket.write(wire));
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        if ((text.match(/^HTTP\/1\.1 /gm) ?? []).length === 3) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(answers.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 204']);
    expect(order).toEqual(['accept traces', 'accept metrics', 'flushed req-pipelined']);
  });

  it('logs a taken port, and does not throw', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const lines: string[] = [];
    const second = new HttpReceiver({
      port,
      hosts: ['127.0.0.1'],
      maxBodyBytes: 1024,
      maxDecompressedBytes: 1024,
      sink: { accept: () => {}, flushed: () => {} },
      log: createLogger('info', (line) => lines.push(line)),
    });
    await expect(second.start()).resolves.toBe(second);
    expect(second.listening).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`127.0.0.1:${port}`);
    expect(lines[0]).toContain('OBSERVED_RECEIVER_PORT');
    await second.stop();
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  });
});
