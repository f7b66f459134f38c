/**
 * Runtime API (`/2018-06-01/runtime/...`): hands invocations to the runtime's
 * long-polling /invocation/next, takes its response or error, and its init
 * error. Records the timings Lambda reports (response latency and duration).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { preciseNowMs } from './clock.js';
import type { EventLog } from './events-log.js';
import { BodyTooLargeError, header, readBody, sendAccepted, sendError } from './http-util.js';

/** Lambda's synchronous response limit (6 MiB), plus the 100 bytes of slack it allows. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

export interface Invocation {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  invokedFunctionArn: string;
  /** Lambda-Runtime-Trace-Id; absent when the environment sends no trace header. */
  traceId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  /** When the runtime received the event. */
  deliveredMs?: number;
  responseStartMs?: number;
  responseEndMs?: number;
  outcome?: InvocationOutcome;
}

export type InvocationOutcome =
  | { kind: 'response'; body: Buffer; contentType?: string }
  | { kind: 'error'; body: Buffer; errorType: string };

export interface RuntimeInitError {
  errorType: string;
  body: string;
}

export type RuntimeChange = 'next' | 'outcome' | 'init-error';

/** Lambda accepts `Runtime.*` / `Function.*` error types from the runtime; anything else is reported as unknown. */
export function platformErrorType(raw: string | undefined): string {
  if (raw && /^(Runtime|Function)\.[A-Z][a-zA-Z]+/.test(raw)) return raw;
  return raw?.startsWith('Function.') ? 'Function.Unknown' : 'Runtime.Unknown';
}

export class RuntimeApi {
  /** The runtime's pending /invocation/next. */
  private waiting: ServerResponse | undefined;
  private pending: Invocation | undefined;
  current: Invocation | undefined;
  initError: RuntimeInitError | undefined;
  /** Whether the runtime has called /next since its last event (it is idle). */
  ready = false;
  /** Whether the runtime has finished init (called /next at least once). */
  initialized = false;

  constructor(
    private readonly log: EventLog,
    private readonly onChange: (change: RuntimeChange) => void,
  ) {}

  /** Hands an invocation to the runtime now, or when it next asks. */
  deliver(invocation: Invocation): void {
    this.current = invocation;
    this.ready = false;
    if (this.waiting) this.send(this.waiting, invocation);
    else this.pending = invocation;
  }

  reset(): void {
    this.waiting = undefined;
    this.pending = undefined;
    this.current = undefined;
    this.initError = undefined;
    this.ready = false;
    this.initialized = false;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'GET' && path === 'invocation/next') return this.next(res);
    if (req.method === 'POST' && path === 'init/error') return this.postInitError(req, res);
    const m = /^invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && m)
      return this.postOutcome(req, res, decodeURIComponent(m[1]), m[2] as 'response' | 'error');
    sendError(res, 404, 'NotFound', `No such Runtime API route: ${req.method} ${path}`);
  }

  private next(res: ServerResponse): void {
    if (this.current && !this.current.outcome) {
      this.reject(
        res,
        403,
        'InvalidStateTransition',
        'State transition from RuntimeInvocationStarted to RuntimeReady failed: the invocation has no response yet',
      );
      return;
    }
    if (this.waiting && this.waiting !== res) this.waiting.destroy();
    this.log.add('runtime.next', { requestId: this.current?.requestId });
    this.initialized = true;
    if (this.pending) {
      const invocation = this.pending;
      this.pending = undefined;
      this.send(res, invocation);
      return;
    }
    this.waiting = res;
    res.on('close', () => {
      if (this.waiting === res) this.waiting = undefined;
    });
    this.ready = true;
    this.onChange('next');
  }

  private send(res: ServerResponse, inv: Invocation): void {
    this.waiting = undefined;
    this.ready = false;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': inv.payload.length,
      'Lambda-Runtime-Aws-Request-Id': inv.requestId,
      'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': inv.invokedFunctionArn,
    };
    if (inv.traceId) headers['Lambda-Runtime-Trace-Id'] = inv.traceId;
    if (inv.clientContext) headers['Lambda-Runtime-Client-Context'] = inv.clientContext;
    if (inv.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = inv.cognitoIdentity;
    inv.deliveredMs = preciseNowMs();
    this.log.add('runtime.invoke', { requestId: inv.requestId });
    res.writeHead(200, headers);
    res.end(inv.payload);
  }

  private async postOutcome(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    kind: 'response' | 'error',
  ): Promise<void> {
    const inv = this.current;
    if (!inv || inv.requestId !== requestId || inv.outcome) {
      await readBody(req).catch(() => undefined);
      this.reject(res, 400, 'InvalidRequestID', 'Invalid request ID', requestId);
      return;
    }
    inv.responseStartMs = preciseNowMs();
    let body: Buffer;
    try {
      body = await readBody(req, MAX_RESPONSE_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      inv.responseEndMs = preciseNowMs();
      const message = `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
      inv.outcome = {
        kind: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        body: Buffer.from(JSON.stringify({ errorMessage: message, errorType: 'Function.ResponseSizeTooLarge' })),
      };
      this.reject(res, 413, 'RequestEntityTooLarge', message, requestId);
      this.onChange('outcome');
      return;
    }
    inv.responseEndMs = preciseNowMs();
    if (kind === 'response') {
      inv.outcome = { kind, body, contentType: header(req, 'Content-Type') };
      this.log.add('runtime.response', { requestId, data: { bytes: body.length } });
    } else {
      const errorType = header(req, 'Lambda-Runtime-Function-Error-Type') ?? errorTypeOf(body) ?? 'Runtime.Unknown';
      inv.outcome = { kind, body, errorType };
      this.log.add('runtime.error', { requestId, data: { errorType, body: parseJson(body) } });
    }
    sendAccepted(res);
    this.onChange('outcome');
  }

  private async postInitError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readBody(req, MAX_RESPONSE_BYTES)).toString('utf8');
    if (this.initialized) {
      this.reject(
        res,
        403,
        'InvalidStateTransition',
        'State transition from RuntimeReady to RuntimeInitError failed: init is over',
      );
      return;
    }
    const errorType =
      header(req, 'Lambda-Runtime-Function-Error-Type') ?? errorTypeOf(Buffer.from(body)) ?? 'Runtime.Unknown';
    this.initError = { errorType, body };
    this.log.add('runtime.init-error', { data: { errorType, body: parseJson(Buffer.from(body)) } });
    sendAccepted(res);
    this.onChange('init-error');
  }

  private reject(
    res: ServerResponse,
    status: number,
    errorType: string,
    errorMessage: string,
    requestId?: string,
  ): void {
    this.log.add('runtime.api-error', { requestId, data: { errorType, errorMessage } });
    sendError(res, status, errorType, errorMessage);
  }
}

export function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorTypeOf(body: Buffer): string | undefined {
  const parsed = parseJson(body);
  if (parsed && typeof parsed === 'object' && typeof (parsed as { errorType?: unknown }).errorType === 'string') {
    return (parsed as { errorType: string }).errorType;
  }
  return undefined;
}
