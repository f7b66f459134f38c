/**
 * Extensions API (`/2020-01-01/extension/...`): register, event/next (long
 * poll), init/error and exit/error, with Lambda's 403 error bodies for
 * missing, malformed or unknown identifiers. Keeps each extension's state:
 * waiting in /next ("ready") or busy with the last event it received.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventLog } from './events-log.js';
import { header, readBody, sendAccepted, sendError, sendJson } from './http-util.js';

export type ExtensionEventType = 'INVOKE' | 'SHUTDOWN';

export interface InvokeEvent {
  eventType: 'INVOKE';
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
  /** Absent when the environment sends no trace header (`traceHeader: 'none'`). */
  tracing?: { type: 'X-Amzn-Trace-Id'; value: string };
}

export interface ShutdownEvent {
  eventType: 'SHUTDOWN';
  shutdownReason: string;
  deadlineMs: number;
}

export type ExtensionEvent = InvokeEvent | ShutdownEvent;

export interface RegisteredExtension {
  id: string;
  name: string;
  /** External extensions are executables of a layer's extensions/ folder; others register from the runtime process. */
  external: boolean;
  events: ExtensionEventType[];
  /** `ready`: waiting in /next with nothing to deliver. `busy`: has an event it has not finished. */
  state: 'registered' | 'ready' | 'busy';
  /** Set once the extension has called /next for the first time. */
  readySinceMs?: number;
  initError?: string;
  exitError?: string;
  waiting?: ServerResponse;
  queued: ExtensionEvent[];
}

export interface FunctionMetadata {
  functionName: string;
  functionVersion: string;
  handler: string;
  accountId: string;
}

export type ExtensionChange = 'register' | 'ready' | 'init-error' | 'exit-error';

const IDENTIFIER = 'Lambda-Extension-Identifier';
const ERROR_TYPE = 'Lambda-Extension-Function-Error-Type';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_EXTENSIONS = 10;

export class ExtensionsApi {
  private readonly byId = new Map<string, RegisteredExtension>();
  /** Open during init only; registrations after it get Extension.RegistrationClosed. */
  registrationOpen = false;

  constructor(
    private readonly log: EventLog,
    private readonly metadata: FunctionMetadata,
    /** Whether a name is that of an external extension executable started by the environment. */
    private readonly isExternalName: (name: string) => boolean,
    private readonly onChange: (extension: RegisteredExtension, change: ExtensionChange) => void,
  ) {}

  get all(): RegisteredExtension[] {
    return [...this.byId.values()];
  }

  byName(name: string): RegisteredExtension | undefined {
    return this.all.find((e) => e.name === name);
  }

  /** Every registered extension waits in /next. */
  allReady(): boolean {
    return this.all.every((e) => e.state === 'ready');
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'POST' && path === 'register') return this.register(req, res);
    const ext = this.identify(req, res);
    if (!ext) return;
    if (req.method === 'GET' && path === 'event/next') return this.next(ext, res);
    if (req.method === 'POST' && (path === 'init/error' || path === 'exit/error')) {
      return this.reportError(ext, req, res, path === 'init/error' ? 'init' : 'exit');
    }
    sendError(res, 404, 'NotFound', `No such Extensions API route: ${req.method} ${path}`);
  }

  /**
   * The registered extension a request comes from, by its Lambda-Extension-Identifier
   * header; answers the request with Lambda's 403 error and returns undefined when there is none.
   */
  identify(req: IncomingMessage, res: ServerResponse): RegisteredExtension | undefined {
    const id = header(req, IDENTIFIER);
    let error: [string, string] | undefined;
    if (!id) error = ['Extension.MissingExtensionIdentifier', `Missing ${IDENTIFIER} header`];
    else if (!UUID.test(id)) error = ['Extension.InvalidExtensionIdentifier', `Invalid ${IDENTIFIER}`];
    else if (!this.byId.has(id)) error = ['Extension.UnknownExtensionIdentifier', `Unknown extension ${id}`];
    if (error) {
      this.log.add('extension.api-error', { data: { path: req.url, errorType: error[0], errorMessage: error[1] } });
      sendError(res, 403, error[0], error[1]);
      return undefined;
    }
    return this.byId.get(id!);
  }

  /** Delivers an event to every extension registered for its type; returns their names. */
  dispatch(event: ExtensionEvent): string[] {
    const names: string[] = [];
    for (const ext of this.byId.values()) {
      if (!ext.events.includes(event.eventType)) continue;
      names.push(ext.name);
      ext.state = 'busy';
      if (ext.waiting) this.deliver(ext, ext.waiting, event);
      else ext.queued.push(event);
    }
    return names;
  }

  /** Forgets every extension; pending /next requests are left to die with their processes. */
  reset(): void {
    this.byId.clear();
    this.registrationOpen = false;
  }

  private async register(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = header(req, 'Lambda-Extension-Name');
    const body = (await readBody(req, 1024 * 1024)).toString('utf8');
    const reject = (errorType: string, errorMessage: string) => {
      this.log.add('extension.api-error', { name, data: { path: 'register', errorType, errorMessage } });
      sendError(res, 403, errorType, errorMessage);
    };
    if (!name) return reject('Extension.InvalidExtensionName', 'Empty extension name');
    let events: unknown;
    try {
      const parsed = JSON.parse(body) as { events?: unknown };
      events = parsed.events ?? [];
    } catch (err) {
      return reject('InvalidRequestFormat', (err as Error).message);
    }
    if (!Array.isArray(events)) return reject('InvalidRequestFormat', 'events must be an array');
    if (!this.registrationOpen) return reject('Extension.RegistrationClosed', 'Extension registration closed already');
    const external = this.isExternalName(name);
    const allowed = external ? ['INVOKE', 'SHUTDOWN'] : ['INVOKE'];
    const invalid = events.find((e) => !allowed.includes(e as string));
    if (invalid !== undefined) {
      return reject(
        'Extension.InvalidEventType',
        external ? `${invalid}: invalid event type` : `${invalid}: internal extensions can only register for INVOKE`,
      );
    }
    if (this.byName(name))
      return reject('Extension.InvalidExtensionState', 'Extension with this name already registered');
    if (this.byId.size >= MAX_EXTENSIONS) {
      return reject('Extension.TooManyExtensions', `Extension limit (${MAX_EXTENSIONS}) reached`);
    }
    const ext: RegisteredExtension = {
      id: randomUUID(),
      name,
      external,
      events: [...new Set(events as ExtensionEventType[])],
      state: 'registered',
      queued: [],
    };
    this.byId.set(ext.id, ext);
    const features = (header(req, 'Lambda-Extension-Accept-Feature') ?? '').split(',').map((f) => f.trim());
    const response: Record<string, string> = {
      functionName: this.metadata.functionName,
      functionVersion: this.metadata.functionVersion,
      handler: this.metadata.handler,
    };
    if (features.includes('accountId')) response.accountId = this.metadata.accountId;
    this.log.add('extension.register', { name, data: { id: ext.id, events: ext.events, external } });
    sendJson(res, 200, response, { [IDENTIFIER]: ext.id });
    this.onChange(ext, 'register');
  }

  private next(ext: RegisteredExtension, res: ServerResponse): void {
    // A second /next while one is pending replaces it (the first connection is likely gone).
    if (ext.waiting && ext.waiting !== res) ext.waiting.destroy();
    ext.waiting = undefined;
    this.log.add('extension.next', { name: ext.name });
    const queued = ext.queued.shift();
    if (queued) {
      this.deliver(ext, res, queued);
      return;
    }
    ext.waiting = res;
    res.on('close', () => {
      if (ext.waiting === res) ext.waiting = undefined;
    });
    const first = ext.readySinceMs === undefined;
    ext.state = 'ready';
    if (first) ext.readySinceMs = Date.now();
    this.onChange(ext, 'ready');
  }

  private deliver(ext: RegisteredExtension, res: ServerResponse, event: ExtensionEvent): void {
    ext.waiting = undefined;
    ext.state = 'busy';
    this.log.add('extension.event', {
      name: ext.name,
      requestId: event.eventType === 'INVOKE' ? event.requestId : undefined,
      data: { event },
    });
    sendJson(res, 200, event, { 'Lambda-Extension-Event-Identifier': randomUUID() });
  }

  private async reportError(
    ext: RegisteredExtension,
    req: IncomingMessage,
    res: ServerResponse,
    kind: 'init' | 'exit',
  ): Promise<void> {
    const errorType = header(req, ERROR_TYPE);
    const body = (await readBody(req, 1024 * 1024)).toString('utf8');
    if (!errorType) {
      this.log.add('extension.api-error', {
        name: ext.name,
        data: { path: `${kind}/error`, errorType: 'Extension.MissingHeader' },
      });
      return sendError(res, 403, 'Extension.MissingHeader', `${ERROR_TYPE} not found`);
    }
    let details: unknown = body;
    try {
      details = body ? JSON.parse(body) : undefined;
    } catch {
      // a plain-text body is kept as it is
    }
    if (kind === 'init') ext.initError = errorType;
    else ext.exitError = errorType;
    this.log.add(kind === 'init' ? 'extension.init-error' : 'extension.exit-error', {
      name: ext.name,
      data: { errorType, details },
    });
    sendAccepted(res);
    this.onChange(ext, kind === 'init' ? 'init-error' : 'exit-error');
  }
}
