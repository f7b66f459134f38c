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
import { lookup } from 'node:dns';
import { HttpServer } from '../io/http-server.js';
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

/** The address of TELEMETRY_HOST, or 127.0.0.1 when it does not resolve in time (node:dns's callback form: LLRT has no node:dns/promises). */
function resolveHost(timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('127.0.0.1'), timeoutMs);
    try {
      lookup(TELEMETRY_HOST, { family: 4 }, (error, address) => {
        clearTimeout(timer);
        resolve(!error && typeof address === 'string' && address !== '' ? address : '127.0.0.1');
      });
    } catch {
      clearTimeout(timer);
      resolve('127.0.0.1');
    }
  });
}

export class TelemetryListener {
  private server: HttpServer | undefined;
  batches = 0;
  malformed = 0;

  constructor(private readonly options: TelemetryListenerOptions) {}

  /** Starts listening; resolves with the destination URI for the subscription. */
  async start(): Promise<string> {
    const host = await resolveHost(this.options.lookupTimeoutMs ?? 500);
    const limit = this.options.maxBodyBytes ?? 4 * 1024 * 1024;
    const server = new HttpServer({
      route: () => ({
        maxBodyBytes: limit,
        tooLarge: (_limit, declared) => {
          this.malformed++;
          this.options.log.once(
            'telemetry-too-large',
            'warn',
            `Telemetry API delivery of ${declared ?? 'more than'} bytes exceeds ${limit}; dropped`,
          );
          return { status: 413 };
        },
        handle: (body) => {
          // Answered at once; the events are handed on after the answer is written.
          queueMicrotask(() => this.deliver(body));
          return { status: 200 };
        },
      }),
      onError: (error) => this.options.log.once('telemetry-listener', 'error', `Telemetry listener: ${String(error)}`),
    });
    const port = await server.listen(0, host);
    this.server = server;
    return `http://${TELEMETRY_HOST}:${port}`;
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  async stop(): Promise<void> {
    await this.server?.close();
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
