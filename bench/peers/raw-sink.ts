/**
 * An OTLP/HTTP sink for load runs: it answers each request at once (200, an empty export response) and keeps
 * the raw body, decoding only when asked after the run. Decoding megabyte requests while the load runs would
 * slow the answers past an exporter's timeout (then it retries what had arrived: duplicates) and steal the
 * event loop that paces the load. Decoding uses the official OTLP protos, as test/support/otlp-sink.ts does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeRequest, encodeResponse } from '../../extension-src/otlp/proto.js';
import type { Metric, Signal } from '../../extension-src/otlp/types.js';

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

interface RawRequest {
  signal: Signal;
  gzip: boolean;
  json: boolean;
  body: Buffer;
}

export class RawOtlpSink {
  private readonly raw: RawRequest[] = [];
  private server: Server | undefined;

  get url(): string {
    if (!this.server) throw new Error('the sink is not started');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const signal = PATHS[req.url ?? ''];
        if (!signal || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        this.raw.push({
          signal,
          gzip: req.headers['content-encoding'] === 'gzip',
          json: String(req.headers['content-type'] ?? '').includes('json'),
          body: Buffer.concat(chunks),
        });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeResponse(signal));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Every metric received so far, decoded now. */
  metrics(): Metric[] {
    return this.raw
      .filter((r) => r.signal === 'metrics')
      .flatMap((r) => {
        const body = r.gzip ? gunzipSync(r.body) : r.body;
        const request = r.json ? JSON.parse(body.toString('utf8')) : decodeRequest('metrics', body);
        return (request.resourceMetrics ?? []).flatMap(
          (rm: { scopeMetrics?: { metrics?: Metric[] }[] }) => rm.scopeMetrics?.flatMap((sm) => sm.metrics ?? []) ?? [],
        );
      });
  }
}
