import http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { metrics as metricsApi } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OtlpPayload } from '../../../extension-src/contracts/payload.js';
import { decodeRequest, encodeRequest } from '../../../extension-src/otlp/proto.js';
import { GrpcReceiver, GrpcStatus } from '../../../extension-src/receiver/grpc/server.js';

const resource = resourceFromAttributes({ 'service.name': 'grpc-test' });

/** One raw unary call; resolves with the grpc-status and message from headers or trailers. */
function rawCall(
  port: number,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', reject);
    const req = client.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    let result: { status: number; message: string } | undefined;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) {
        result = { status: Number(h['grpc-status']), message: decodeURIComponent(String(h['grpc-message'] ?? '')) };
      }
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => {});
    req.on('close', () => {
      client.close();
      result ? resolve(result) : reject(new Error('no grpc-status'));
    });
    req.on('error', () => {});
    req.end(Buffer.from(body));
  });
}

function frame(message: Uint8Array, compressed = false): Uint8Array {
  const out = Buffer.alloc(5 + message.length);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

describe('OTLP/gRPC receiver', () => {
  const received: OtlpPayload[] = [];
  let receiver: GrpcReceiver;
  let url: string;

  beforeAll(async () => {
    receiver = await new GrpcReceiver({
      port: 0,
      hosts: ['127.0.0.1'],
      sink: (p) => {
        received.push(p);
      },
      maxMessageBytes: 64 * 1024,
      log: () => {},
    }).start();
    url = `http://127.0.0.1:${receiver.port}`;
  });
  afterAll(async () => {
    await receiver.stop();
  });

  it('accepts spans, metrics and logs from the OpenTelemetry JS gRPC exporters, gzip included', async () => {
    const traceExporter = new OTLPTraceExporter({ url, compression: 'gzip' as never });
    const tracerProvider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(traceExporter)],
    });
    const tracer = tracerProvider.getTracer('t');
    tracer.startSpan('grpc-span-1').end();
    tracer.startSpan('grpc-span-2').end();
    await tracerProvider.forceFlush();
    await tracerProvider.shutdown();

    const reader = new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url }),
      exportIntervalMillis: 60_000,
    });
    const meterProvider = new MeterProvider({ resource, readers: [reader] });
    meterProvider.getMeter('m').createCounter('grpc.requests').add(3, { route: '/a' });
    await meterProvider.forceFlush();
    await meterProvider.shutdown();
    metricsApi.disable();

    const loggerProvider = new LoggerProvider({
      resource,
      processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url }) })],
    });
    loggerProvider.getLogger('l').emit({ body: 'over grpc', severityText: 'INFO' });
    await loggerProvider.forceFlush();
    await loggerProvider.shutdown();

    const spans = received
      .filter((p) => p.signal === 'traces')
      .flatMap((p) => decodeRequest('traces', p.bytes).resourceSpans ?? [])
      .flatMap((rs) => rs.scopeSpans ?? [])
      .flatMap((s) => s.spans ?? []);
    expect(spans.map((s) => s.name).sort()).toEqual(['grpc-span-1', 'grpc-span-2']);
    expect(received.filter((p) => p.signal === 'traces').reduce((n, p) => n + p.items, 0)).toBe(2);

    const metricPayload = received.find((p) => p.signal === 'metrics')!;
    const metric = decodeRequest('metrics', metricPayload.bytes).resourceMetrics?.[0].scopeMetrics?.[0].metrics?.[0];
    expect(metric?.name).toBe('grpc.requests');
    expect(Number(metric?.sum?.dataPoints?.[0].asDouble ?? metric?.sum?.dataPoints?.[0].asInt)).toBe(3);
    expect(metricPayload.items).toBe(1);

    const logPayload = received.find((p) => p.signal === 'logs')!;
    const log = decodeRequest('logs', logPayload.bytes).resourceLogs?.[0].scopeLogs?.[0].logRecords?.[0];
    expect(log?.body?.stringValue).toBe('over grpc');
    expect(logPayload.items).toBe(1);
  });

  it('answers malformed messages with INVALID_ARGUMENT and keeps serving', async () => {
    const before = received.length;
    const garbage = await rawCall(receiver.port!, TRACE_PATH, frame(Uint8Array.from([0x0a, 0x50, 0x01, 0x02])));
    expect(garbage.status).toBe(GrpcStatus.INVALID_ARGUMENT);
    const badFrame = await rawCall(receiver.port!, TRACE_PATH, Uint8Array.from([0, 0, 0, 0, 9, 1]));
    expect(badFrame.status).toBe(GrpcStatus.INVALID_ARGUMENT);
    const badGzip = await rawCall(receiver.port!, TRACE_PATH, frame(Uint8Array.from([1, 2, 3]), true), {
      'grpc-encoding': 'gzip',
    });
    expect(badGzip.status).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(received.length).toBe(before);

    const good = encodeRequest('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'after-garbage' }] }] }] });
    const ok = await rawCall(receiver.port!, TRACE_PATH, frame(gzipSync(good), true), { 'grpc-encoding': 'gzip' });
    expect(ok.status).toBe(GrpcStatus.OK);
    expect(decodeRequest('traces', received.at(-1)!.bytes).resourceSpans?.[0].scopeSpans?.[0].spans?.[0].name).toBe(
      'after-garbage',
    );
  });

  it('answers unknown methods with UNIMPLEMENTED and oversized messages with RESOURCE_EXHAUSTED', async () => {
    const unknown = await rawCall(
      receiver.port!,
      '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export',
      frame(new Uint8Array()),
    );
    expect(unknown.status).toBe(GrpcStatus.UNIMPLEMENTED);
    const big = encodeRequest('logs', {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x'.repeat(100 * 1024) } }] }] }],
    });
    const tooLarge = await rawCall(
      receiver.port!,
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      frame(big),
    );
    expect(tooLarge.status).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    // A small compressed message that inflates past the limit is refused the same way.
    const bomb = await rawCall(
      receiver.port!,
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      frame(gzipSync(big), true),
      { 'grpc-encoding': 'gzip' },
    );
    expect(bomb.status).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    const ok = await rawCall(receiver.port!, TRACE_PATH, frame(encodeRequest('traces', {})));
    expect(ok.status).toBe(GrpcStatus.OK);
  });
});
