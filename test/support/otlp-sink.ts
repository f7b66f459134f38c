/**
 * A local OTLP/HTTP backend for tests: decodes every request with the official
 * OTLP protos (protobuf or JSON, gzip or not) and keeps what arrived. It can be
 * told to fail, to test the exporter's retry and drop paths.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeRequest, encodeResponse } from '../../extension-src/otlp/proto.js';
import type { RequestBySignal, Signal } from '../../extension-src/otlp/types.js';

const PATHS: Record<string, Signal> = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

export interface ReceivedRequest<S extends Signal = Signal> {
  signal: S;
  request: RequestBySignal[S];
  headers: IncomingMessage['headers'];
  contentType: string;
}

/** Decides the answer to one request; return undefined to accept it. */
export type FaultInjector = (
  signal: Signal,
  attempt: number,
) => { status: number; headers?: Record<string, string> } | undefined;

export class OtlpSink {
  readonly received: ReceivedRequest[] = [];
  /** Every request seen, accepted or not. */
  attempts = 0;
  fault: FaultInjector | undefined;
  private server: Server | undefined;

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.attempts++;
        const signal = PATHS[req.url ?? ''];
        if (!signal || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        const injected = this.fault?.(signal, this.attempts);
        if (injected) {
          res.writeHead(injected.status, injected.headers).end();
          return;
        }
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const contentType = String(req.headers['content-type'] ?? '');
        try {
          const request = contentType.includes('json')
            ? (JSON.parse(body.toString('utf8')) as RequestBySignal[Signal])
            : decodeRequest(signal, body);
          this.received.push({ signal, request, headers: req.headers, contentType });
        } catch (error) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeResponse(signal));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  requests<S extends Signal>(signal: S): RequestBySignal[S][] {
    return this.received.filter((r) => r.signal === signal).map((r) => r.request as RequestBySignal[S]);
  }

  spans() {
    return this.requests('traces').flatMap((r) =>
      (r.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])),
    );
  }

  logRecords() {
    return this.requests('logs').flatMap((r) =>
      (r.resourceLogs ?? []).flatMap((rl) => (rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? [])),
    );
  }

  metrics() {
    return this.requests('metrics').flatMap((r) =>
      (r.resourceMetrics ?? []).flatMap((rm) => (rm.scopeMetrics ?? []).flatMap((sm) => sm.metrics ?? [])),
    );
  }
}
