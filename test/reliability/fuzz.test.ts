/**
 * Bounded fuzzing of every receiver decoder (a few seconds per target; `npm
 * run fuzz -- --seconds N` runs longer), plus the size limits as exact cases:
 * oversize gRPC bodies, a decompression bomb, thousands of attributes on one
 * point, megabyte label values, a Telemetry API batch at Lambda's largest.
 */
import { createServer } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { OtlpPayload } from '../../extension-src/contracts/payload.js';
import { parseRemoteWriteOptions } from '../../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../../extension-src/exporters/prometheus-remote-write/exporter.js';
import { encodeRequest } from '../../extension-src/otlp/proto.js';
import { PlatformTelemetry } from '../../extension-src/platform/index.js';
import { GrpcReceiver, GrpcStatus } from '../../extension-src/receiver/grpc/server.js';
import { silentLogger } from '../../extension-src/self-telemetry/log.js';
import { collectGarbage, fuzz } from '../../fuzz/engine.js';
import { allTargets } from '../../fuzz/targets.js';
import { verdict } from '../../scripts/fuzz.js';

const SECONDS = Number(process.env.OBSERVED_FUZZ_SECONDS ?? 3);
const SEED = Number(process.env.OBSERVED_FUZZ_SEED ?? 20261123);

describe('fuzzing the receiver decoders', () => {
  for (const target of allTargets()) {
    it(`${target.name}: ${SECONDS} s of mutated inputs, no crash, invariants hold, heap comes back`, async () => {
      const report = await fuzz(target, { seconds: SECONDS, seed: SEED });
      console.log(
        `${report.target}: ${report.iterations} inputs, heap ${report.heapStartMB.toFixed(1)} -> ${report.heapEndMB.toFixed(
          1,
        )} MB, ${JSON.stringify(report.stats)}`,
      );
      expect(report.iterations).toBeGreaterThan(50);
      expect(verdict(report)).toEqual([]);
    });
  }
});

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;

function grpcCall(port: number, body: Buffer, headers: Record<string, string> = {}) {
  return new Promise<{ status?: string; message?: string }>((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', reject);
    const stream = client.request({
      ':method': 'POST',
      ':path': '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      'content-type': 'application/grpc',
      ...headers,
    });
    const out: { status?: string; message?: string } = {};
    const note = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) {
        out.status = String(h['grpc-status']);
        out.message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      }
    };
    stream.on('response', note);
    stream.on('trailers', note);
    stream.on('data', () => {});
    stream.on('error', () => {});
    stream.on('close', () => {
      client.close();
      resolve(out);
    });
    stream.end(body);
  });
}

function framed(message: Uint8Array, compressed: boolean): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

describe('limits', () => {
  it('gRPC: bodies over the limit and decompression bombs are refused with RESOURCE_EXHAUSTED, memory stays flat', async () => {
    const accepted: OtlpPayload[] = [];
    const receiver = await new GrpcReceiver({
      port: 0,
      hosts: ['127.0.0.1'],
      maxMessageBytes: 1024 * 1024,
      log: () => {},
      sink: (p) => accepted.push(p),
    }).start();
    try {
      const port = receiver.port as number;
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const oversize = framed(Buffer.alloc(8 * 1024 * 1024, 0x0a), false);
      // 64 MiB of zeros in 64 KiB of gzip.
      const bomb = framed(gzipSync(Buffer.alloc(64 * 1024 * 1024)), true);
      for (let i = 0; i < 3; i++) {
        const big = await grpcCall(port, oversize);
        expect(big.status).toBe(String(GrpcStatus.RESOURCE_EXHAUSTED));
        const boom = await grpcCall(port, bomb, { 'grpc-encoding': 'gzip' });
        expect(boom.status).toBe(String(GrpcStatus.RESOURCE_EXHAUSTED));
        expect(boom.message).toContain('decompressed message larger');
      }
      collectGarbage();
      expect((process.memoryUsage().heapUsed - before) / 1024 / 1024).toBeLessThan(32);
      expect(accepted).toEqual([]);
      expect(receiver.stats).toEqual({ accepted: 0, rejected: 6 });
    } finally {
      await receiver.stop();
    }
  });

  function remoteWrite(url = 'http://127.0.0.1:9/api/v1/write'): RemoteWriteExporter {
    const options = parseRemoteWriteOptions({
      OBSERVED_REMOTE_WRITE_URL: url,
      OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES: '1000',
    }).options;
    if (!options) throw new Error('options');
    return new RemoteWriteExporter(options, { log: silentLogger });
  }

  const gauge = (timeMs: number, attributes: { key: string; value: { stringValue: string } }[]) =>
    encodeRequest('metrics', {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeMetrics: [
            {
              metrics: [
                { name: 'wide', gauge: { dataPoints: [{ timeUnixNano: ns(timeMs), asDouble: 1, attributes }] } },
              ],
            },
          ],
        },
      ],
    });

  it('remote write: 20,000 attributes on one point and 1 MiB label values are taken without a crash, queue bounded', () => {
    const exporter = remoteWrite();
    const t = Date.now();
    const many = Array.from({ length: 20_000 }, (_, i) => ({ key: `a${i}`, value: { stringValue: `v${i}` } }));
    exporter.enqueue({ signal: 'metrics', bytes: gauge(t, many), items: 1 });
    const big = 'x'.repeat(1024 * 1024);
    for (let i = 1; i <= 8; i++) {
      exporter.enqueue({
        signal: 'metrics',
        bytes: gauge(t + i, [{ key: 'big', value: { stringValue: `${i}${big}` } }]),
        items: 1,
      });
    }
    // Over the queue bound of 1,000 samples: the oldest go, counted.
    for (let i = 0; i < 1500; i++) {
      exporter.enqueue({
        signal: 'metrics',
        bytes: gauge(t + 10 + i, [{ key: 'n', value: { stringValue: `${i}` } }]),
        items: 1,
      });
    }
    const stats = exporter.stats();
    expect(stats.pointsReceived).toBe(1509);
    expect(exporter.pendingItems()).toBeLessThanOrEqual(1000);
    // The point with 20,000 attributes is over OBSERVED_PROMETHEUS_MAX_LABELS: dropped in translation, counted.
    expect(stats.samplesDropped.translation_too_many_labels).toBe(1);
    // Everything queued is still queued or counted as dropped (target_info series included).
    const dropped = Object.entries(stats.samplesDropped)
      .filter(([reason]) => !reason.startsWith('translation_'))
      .reduce((a, [, b]) => a + b, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(exporter.pendingItems() + dropped).toBe(stats.samplesQueued);
  });

  // Label values are shortened to OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH (2,048 bytes by default) before any
  // series is remembered, so 64 series with 1 MiB label values keep a few hundred kB, not 130-200 MB.
  it('remote write: long label values do not stay in memory after delivery (label values shortened)', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const exporter = remoteWrite(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`);
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      const big = 'x'.repeat(1024 * 1024);
      const t = Date.now();
      for (let i = 0; i < 64; i++) {
        exporter.enqueue({
          signal: 'metrics',
          bytes: gauge(t + i, [{ key: 'big', value: { stringValue: `${i}${big}` } }]),
          items: 1,
        });
        await exporter.flush(Date.now() + 5_000);
      }
      expect(exporter.pendingItems()).toBe(0);
      collectGarbage();
      const retainedMB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
      console.log(`retained after delivering 64 series with 1 MiB labels: ${retainedMB.toFixed(0)} MB`);
      expect(retainedMB).toBeLessThan(32);
    } finally {
      server.close();
    }
  });

  it('Telemetry API: a batch of 10,000 log events (about 2 MB, Lambda at its largest) yields 10,000 log records', () => {
    let records = 0;
    const platform = new PlatformTelemetry({
      resource: () => [],
      emit: (p) => {
        if (p.signal === 'logs') records += p.items;
      },
    });
    const t = Date.now();
    const batch = Array.from({ length: 10_000 }, (_, i) => ({
      time: new Date(t + i).toISOString(),
      type: 'function',
      record: `{"level":"INFO","message":"line ${i} ${'y'.repeat(150)}"}`,
    }));
    expect(JSON.stringify(batch).length).toBeGreaterThan(1_900_000);
    platform.handleEvents(batch);
    expect(records).toBe(10_000);
  });
});
