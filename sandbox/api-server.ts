/**
 * The environment's one loopback HTTP server (AWS_LAMBDA_RUNTIME_API): it sends each request to the Runtime
 * API, the Extensions API or the Telemetry API by its path, as Lambda serves the three on one address.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EventLog } from './events-log.js';
import type { ExtensionsApi } from './extensions-api.js';
import { readBody, sendError, sendJson } from './http-util.js';
import type { RuntimeApi } from './runtime-api.js';
import { subscriptionResponse, type TelemetryApi } from './telemetry-api.js';
import { platform } from './telemetry-events.js';

const RUNTIME_PREFIX = '/2018-06-01/runtime/';
const EXTENSION_PREFIX = '/2020-01-01/extension/';
const TELEMETRY_PATHS = ['/2022-07-01/telemetry', '/2022-07-01/telemetry/'];

export interface Apis {
  log: EventLog;
  runtimeApi: RuntimeApi;
  extensionsApi: ExtensionsApi;
  telemetry: TelemetryApi;
  /** False answers subscriptions as AWS's Runtime Interface Emulator does (see `telemetryApi` in the options). */
  telemetrySupported: boolean;
}

export class ApiServer {
  private constructor(
    private readonly server: Server,
    /** `127.0.0.1:<port>`. */
    readonly address: string,
  ) {}

  /** Listens on a free loopback port; requests wait until `serve` says who answers them. */
  static async listen(): Promise<ApiServer> {
    const server = createServer();
    // Idle connections stay open: the runtime and extensions long-poll and are frozen between invocations.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => ok());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new ApiServer(server, `127.0.0.1:${port}`);
  }

  serve(apis: Apis): void {
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      route(apis, req, res).catch((err: Error) => {
        apis.log.add('runtime.api-error', { data: { path: req.url, errorMessage: err.message } });
        sendError(res, 500, 'InternalServerError', 'Internal Server Error');
      });
    });
  }

  /** Drops the long polls of processes that are gone, then stops listening. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

async function route(apis: Apis, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path.startsWith(RUNTIME_PREFIX)) {
    return apis.runtimeApi.handle(req, res, path.slice(RUNTIME_PREFIX.length));
  }
  if (path.startsWith(EXTENSION_PREFIX)) {
    return apis.extensionsApi.handle(req, res, path.slice(EXTENSION_PREFIX.length));
  }
  if (req.method === 'PUT' && TELEMETRY_PATHS.includes(path)) return subscribe(apis, req, res);
  sendError(res, 404, 'NotFound', `No such API route: ${req.method} ${path}`);
}

/** A Telemetry API subscription, from an extension the Extensions API knows. */
async function subscribe(apis: Apis, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { log, extensionsApi, telemetry } = apis;
  const ext = extensionsApi.identify(req, res);
  if (!ext) return;
  const body = (await readBody(req, 1024 * 1024)).toString('utf8');
  const answer = subscriptionResponse(telemetry, ext.name, body, apis.telemetrySupported);
  if (answer.subscription) {
    const { types, buffering, destination } = answer.subscription;
    log.add('telemetry.subscribe', {
      name: ext.name,
      data: { types, buffering, destination: destination.href },
    });
    telemetry.publish(platform.telemetrySubscription(Date.now(), ext.name, types), 'platform');
  } else {
    log.add('telemetry.subscribe-rejected', {
      name: ext.name,
      data: { status: answer.status, body: answer.body },
    });
  }
  return sendJson(res, answer.status, answer.body);
}
