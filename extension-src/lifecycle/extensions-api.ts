/**
 * Client of Lambda's Extensions API and the Telemetry API subscription, at
 * http://${AWS_LAMBDA_RUNTIME_API}:
 *
 *   POST /2020-01-01/extension/register      Lambda-Extension-Name: <file name>
 *   GET  /2020-01-01/extension/event/next    (blocks until INVOKE or SHUTDOWN)
 *   POST /2020-01-01/extension/init/error    Lambda-Extension-Function-Error-Type
 *   POST /2020-01-01/extension/exit/error
 *   PUT  /2022-07-01/telemetry               (subscription)
 *
 * The register call asks for the account id (Lambda-Extension-Accept-Feature:
 * accountId), which the resource attributes need.
 */
import { HttpClient } from '../io/http-client.js';

export interface InvokeEvent {
  readonly eventType: 'INVOKE';
  readonly deadlineMs: number;
  readonly requestId: string;
  readonly invokedFunctionArn?: string;
  readonly tracing?: { type?: string; value?: string };
}

export interface ShutdownEvent {
  readonly eventType: 'SHUTDOWN';
  readonly deadlineMs: number;
  readonly shutdownReason?: string;
}

export type LifecycleEvent = InvokeEvent | ShutdownEvent;

export interface Registration {
  readonly extensionId: string;
  readonly functionName?: string;
  readonly functionVersion?: string;
  readonly accountId?: string;
}

export class ExtensionsApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Reply {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
}

/** Every call but /next (which blocks until the next event by design) has a time limit. */
const CALL_TIMEOUT_MS = { register: 5_000, subscribe: 2_000, error: 1_000 };

export class ExtensionsApiClient {
  private readonly client = new HttpClient(4);
  private extensionId: string | undefined;

  constructor(
    /** host:port of AWS_LAMBDA_RUNTIME_API. */
    private readonly runtimeApi: string,
  ) {}

  get id(): string | undefined {
    return this.extensionId;
  }

  async register(name: string, events: readonly string[] = ['INVOKE', 'SHUTDOWN']): Promise<Registration> {
    const reply = await this.call(
      'POST',
      '/2020-01-01/extension/register',
      { 'lambda-extension-name': name, 'lambda-extension-accept-feature': 'accountId' },
      JSON.stringify({ events }),
      CALL_TIMEOUT_MS.register,
    );
    if (reply.status !== 200)
      throw new ExtensionsApiError(`register answered HTTP ${reply.status}: ${reply.body}`, reply.status);
    const id = reply.headers['lambda-extension-identifier'];
    if (typeof id !== 'string' || id === '')
      throw new ExtensionsApiError('register answered without Lambda-Extension-Identifier');
    this.extensionId = id;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(reply.body) as Record<string, unknown>;
    } catch {
      // The body is informational.
    }
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    return {
      extensionId: id,
      functionName: text(body.functionName),
      functionVersion: text(body.functionVersion),
      accountId: text(body.accountId),
    };
  }

  /** Blocks until Lambda sends the next event. */
  async next(): Promise<LifecycleEvent> {
    const reply = await this.call('GET', '/2020-01-01/extension/event/next', this.idHeader());
    if (reply.status !== 200)
      throw new ExtensionsApiError(`next answered HTTP ${reply.status}: ${reply.body}`, reply.status);
    const event = JSON.parse(reply.body) as LifecycleEvent;
    if (event.eventType !== 'INVOKE' && event.eventType !== 'SHUTDOWN') {
      throw new ExtensionsApiError(
        `next answered an unknown event type ${(event as { eventType?: string }).eventType}`,
      );
    }
    return event;
  }

  /** Subscribes to the Telemetry API; resolves with the HTTP status. */
  async subscribeTelemetry(body: unknown): Promise<{ status: number; body: string }> {
    const reply = await this.call(
      'PUT',
      '/2022-07-01/telemetry',
      { ...this.idHeader(), 'content-type': 'application/json' },
      JSON.stringify(body),
      CALL_TIMEOUT_MS.subscribe,
    );
    return { status: reply.status, body: reply.body };
  }

  /** Reports a fatal init error: Lambda then fails the init. Only for what truly cannot go on. */
  async initError(errorType: string, message: string): Promise<void> {
    await this.reportError('/2020-01-01/extension/init/error', errorType, message);
  }

  /** Reports that the extension is about to exit because of an error. */
  async exitError(errorType: string, message: string): Promise<void> {
    await this.reportError('/2020-01-01/extension/exit/error', errorType, message);
  }

  close(): void {
    this.client.closeIdle();
  }

  private async reportError(path: string, errorType: string, message: string): Promise<void> {
    await this.call(
      'POST',
      path,
      { ...this.idHeader(), 'lambda-extension-function-error-type': errorType, 'content-type': 'application/json' },
      JSON.stringify({ errorMessage: message, errorType, stackTrace: [] }),
      CALL_TIMEOUT_MS.error,
    );
  }

  private idHeader(): Record<string, string> {
    return this.extensionId ? { 'lambda-extension-identifier': this.extensionId } : {};
  }

  private async call(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
    timeoutMs?: number,
  ): Promise<Reply> {
    const outcome = await this.client.exchange({
      method,
      url: new URL(`http://${this.runtimeApi}${path}`),
      headers,
      body: body === undefined ? undefined : Buffer.from(body),
      timeoutMs,
    });
    if (!outcome.response) {
      throw new ExtensionsApiError(`${method} ${path}: ${outcome.error?.message ?? 'request failed'}`);
    }
    const { status, headers: replyHeaders, body: replyBody } = outcome.response;
    return { status, headers: replyHeaders, body: replyBody.toString('utf8') };
  }
}
