/**
 * A remote write endpoint with faults on demand, in front of a real
 * Prometheus: it forwards what it accepts (so what arrived is what PromQL
 * counts) and can instead refuse connections (down), answer a status (500,
 * 429 with Retry-After), answer late, hang, or reset the connection half-way
 * through reading a request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

export interface Attempt {
  readonly at: number;
  readonly fault: Fault['kind'];
  readonly bytes: number;
  readonly status?: number;
  /** Forwarded to Prometheus, which took it (2xx), whether or not the client was still there for the answer. */
  readonly stored?: boolean;
  /** The client got the answer (it had not given up on the request). */
  readonly answered?: boolean;
}

export class FaultyRemoteWrite {
  readonly attempts: Attempt[] = [];
  fault: Fault = { kind: 'pass' };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  port = 0;
  /** Requests being answered right now. */
  inFlight = 0;
  /** Requests whose body did not arrive whole (the client gave up while sending): never forwarded. */
  cutShort = 0;

  constructor(private readonly prometheusUrl: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/write`;
  }

  async start(): Promise<this> {
    await this.listen(0);
    return this;
  }

  /** Stops listening and drops every connection: clients get ECONNREFUSED until up(). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  async up(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await this.down();
  }

  private listen(port: number): Promise<void> {
    // Short keep-alive, so a frozen client comes back to sockets the server has closed.
    const server = createServer({ keepAliveTimeout: 1_000 }, (req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    res.on('close', () => this.inFlight--);
    const fault = this.fault;
    if (fault.kind === 'reset') {
      // Read the first chunk of the body, then drop the connection mid-request.
      req.once('data', (chunk: Buffer) => {
        this.attempts.push({ at: Date.now(), fault: 'reset', bytes: chunk.length });
        req.socket.destroy();
      });
      return;
    }
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch (error) {
      this.cutShort++;
      throw error;
    }
    if (!req.complete) {
      this.cutShort++;
      return;
    }
    const body = Buffer.concat(chunks);
    if (fault.kind === 'hang') {
      this.attempts.push({ at: Date.now(), fault: 'hang', bytes: body.length });
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (fault.kind === 'status') {
      this.attempts.push({ at: Date.now(), fault: 'status', bytes: body.length, status: fault.status });
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
      res.writeHead(fault.status, headers).end(`injected ${fault.status}`);
      return;
    }
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs));
    const forwarded = await fetch(`${this.prometheusUrl}/api/v1/write`, {
      method: 'POST',
      headers: {
        'content-type': String(req.headers['content-type'] ?? 'application/x-protobuf'),
        'content-encoding': String(req.headers['content-encoding'] ?? 'snappy'),
        'x-prometheus-remote-write-version': '0.1.0',
      },
      body,
    });
    const text = await forwarded.text();
    this.attempts.push({
      at: Date.now(),
      fault: fault.kind,
      bytes: body.length,
      status: forwarded.status,
      stored: forwarded.ok,
      answered: !res.destroyed,
    });
    if (res.destroyed) return;
    res.writeHead(forwarded.status, { 'content-type': 'text/plain' }).end(text);
  }
}
