/**
 * The HTTP endpoint the Telemetry API delivers to. It listens on an ephemeral
 * port on the address `sandbox.localdomain` resolves to (127.0.0.1 when it
 * does not resolve), and the subscription names it as
 * `http://sandbox.localdomain:<port>`. Each POST carries a JSON array of
 * events (up to about twice the subscription's maxBytes); it is answered 200
 * at once, then handed on. The listener itself picks out
 * `platform.runtimeDone`, so the lifecycle learns that an invocation is over
 * whatever the platform module does with the events.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../self-telemetry/log.js';

export const TELEMETRY_HOST = 'sandbox.localdomain';

export interface TelemetryListenerOptions {
  /** Every delivered batch (parsed JSON array). */
  readonly onEvents: (events: unknown[]) => void;
  /** A platform.runtimeDone for this request id arrived. */
  readonly onRuntimeDone: (requestId: string) => void;
  readonly log: Logger;
  /** Largest accepted POST body (default 4 MiB: twice Lambda's largest maxBytes, with room). */
  readonly maxBodyBytes?: number;
  /** How long to wait for the host name to resolve (default 500 ms). */
  readonly lookupTimeoutMs?: number;
}

async function resolveHost(timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const found = await Promise.race([
      lookup(TELEMETRY_HOST, { family: 4 }).then((r) => r.address),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
      }),
    ]);
    return found ?? '127.0.0.1';
  } catch {
    return '127.0.0.1';
  } finally {
    clearTimeout(timer);
  }
}

export class TelemetryListener {
  private server: Server | undefined;
  batches = 0;
  malformed = 0;

  constructor(private readonly options: TelemetryListenerOptions) {}

  /** Starts listening; resolves with the destination URI for the subscription. */
  async start(): Promise<string> {
    const host = await resolveHost(this.options.lookupTimeoutMs ?? 500);
    const limit = this.options.maxBodyBytes ?? 4 * 1024 * 1024;
    const server = createServer({ keepAliveTimeout: 0 }, (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
      });
      req.on('end', () => {
        if (size > limit) {
          this.malformed++;
          this.options.log.once(
            'telemetry-too-large',
            'warn',
            `Telemetry API delivery of ${size} bytes exceeds ${limit}; dropped`,
          );
          res.writeHead(413).end();
          return;
        }
        res.writeHead(200).end();
        this.deliver(Buffer.concat(chunks));
      });
      req.on('error', () => res.destroy());
    });
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    server.on('error', (error) =>
      this.options.log.once('telemetry-listener', 'error', `Telemetry listener: ${error.message}`),
    );
    this.server = server;
    return `http://${TELEMETRY_HOST}:${(server.address() as AddressInfo).port}`;
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private deliver(body: Buffer): void {
    let events: unknown;
    try {
      events = JSON.parse(body.toString('utf8'));
    } catch {
      this.malformed++;
      this.options.log.once('telemetry-malformed', 'warn', 'Telemetry API delivered a body that is not JSON; ignored');
      return;
    }
    const list = Array.isArray(events) ? events : [events];
    this.batches++;
    for (const event of list) {
      const e = event as { type?: unknown; record?: { requestId?: unknown } } | null;
      if (e?.type === 'platform.runtimeDone' && typeof e.record?.requestId === 'string') {
        this.options.onRuntimeDone(e.record.requestId);
      }
    }
    try {
      this.options.onEvents(list);
    } catch (error) {
      this.options.log.once('telemetry-handler', 'error', `platform telemetry handler failed: ${String(error)}`);
    }
  }
}
