/**
 * Client of the Lambda Runtime API, as a runtime uses it. Lambda's runtime
 * interface client talks to the Runtime API natively (not through node:http),
 * so instrumentations of node:http in the function never see those calls;
 * this one writes HTTP/1.1 by hand on one kept-alive `net` socket for the same
 * reason. Requests go one at a time; answers are read by their content-length
 * (the sandbox's Runtime API always sends one) or up to the close. The socket
 * holds the event loop only while a request is out, so that a handler's empty
 * event loop still ends an invocation.
 */
import { connect, type Socket } from 'node:net';

export interface NextInvocation {
  requestId: string;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  body: string;
}

export interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

interface Response {
  status: number;
  /** Lower-cased names; a repeated header keeps its first value. */
  headers: Record<string, string>;
  body: string;
}

interface Exchange {
  readonly socket: Socket;
  resolve(response: Response): void;
  reject(error: Error): void;
  /** Bytes of the answer so far. */
  received: Buffer | undefined;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

export class RuntimeApiClient {
  private readonly host: string;
  private readonly port: number;
  private socket: Socket | undefined;
  private exchange: Exchange | undefined;
  /** Requests wait for the one before them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(endpoint: string) {
    const [host, port] = endpoint.split(':');
    this.host = host;
    this.port = Number(port || 80);
  }

  async next(): Promise<NextInvocation> {
    const res = await this.call('GET', '/2018-06-01/runtime/invocation/next');
    const h = (name: string) => res.headers[name];
    if (res.status !== 200) throw new Error(`Runtime API /next answered ${res.status}: ${res.body}`);
    return {
      requestId: h('lambda-runtime-aws-request-id') ?? '',
      deadlineMs: Number(h('lambda-runtime-deadline-ms')),
      invokedFunctionArn: h('lambda-runtime-invoked-function-arn') ?? '',
      traceId: h('lambda-runtime-trace-id'),
      clientContext: h('lambda-runtime-client-context'),
      cognitoIdentity: h('lambda-runtime-cognito-identity'),
      body: res.body,
    };
  }

  async respond(requestId: string, body: string): Promise<void> {
    await this.call('POST', `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/response`, body, {
      'Content-Type': 'application/json',
    });
  }

  async fail(requestId: string, error: ErrorBody): Promise<void> {
    await this.call(
      'POST',
      `/2018-06-01/runtime/invocation/${encodeURIComponent(requestId)}/error`,
      JSON.stringify(error),
      {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Function-Error-Type': error.errorType,
      },
    );
  }

  async initError(error: ErrorBody): Promise<void> {
    await this.call('POST', '/2018-06-01/runtime/init/error', JSON.stringify(error), {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Function-Error-Type': error.errorType,
    });
  }

  private call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value.replace(/[\r\n]+/g, ' ')}\r\n`;
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    if (payload) head += `Content-Length: ${payload.length}\r\n`;
    head += '\r\n';
    const run = () => this.send(head, payload, true);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private send(head: string, payload: Buffer | undefined, mayRetry: boolean): Promise<Response> {
    const reused = this.socket !== undefined && !this.socket.destroyed;
    const socket = reused ? this.socket! : this.open();
    return new Promise<Response>((resolve, reject) => {
      this.exchange = { socket, resolve, reject, received: undefined };
      socket.ref();
      socket.cork();
      socket.write(head);
      if (payload) socket.write(payload);
      socket.uncork();
    }).catch((error: Error & { beforeAnswer?: boolean }) => {
      // A kept connection the server closed before it answered: once more on a new one.
      if (reused && mayRetry && error.beforeAnswer) return this.send(head, payload, false);
      throw error;
    });
  }

  private open(): Socket {
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    let lastError: Error | undefined;
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error) => {
      lastError = error;
    });
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      const exchange = this.exchange;
      if (exchange?.socket !== socket) return;
      this.exchange = undefined;
      const answer = exchange.received && parse(exchange.received, true);
      if (answer) {
        exchange.resolve(answer.response);
        return;
      }
      const error: Error & { beforeAnswer?: boolean } =
        lastError ?? new Error(`Runtime API connection to ${this.host}:${this.port} closed before an answer`);
      error.beforeAnswer = exchange.received === undefined;
      exchange.reject(error);
    });
    this.socket = socket;
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    const exchange = this.exchange;
    if (exchange?.socket !== socket) {
      socket.destroy();
      return;
    }
    exchange.received = exchange.received ? Buffer.concat([exchange.received, chunk]) : chunk;
    const answer = parse(exchange.received, false);
    if (!answer) return;
    this.exchange = undefined;
    if (!answer.keep || answer.consumed !== exchange.received.length) {
      this.socket = undefined;
      socket.destroy();
    } else {
      // Idle between requests: the socket must not keep the process alive.
      socket.unref();
    }
    exchange.resolve(answer.response);
  }
}

/** One answer from the bytes so far; undefined while incomplete. `closed`: the server has closed the connection. */
function parse(buffer: Buffer, closed: boolean): { response: Response; consumed: number; keep: boolean } | undefined {
  const end = buffer.indexOf(CRLFCRLF);
  if (end < 0) return undefined;
  const lines = buffer.toString('latin1', 0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers[name] ??= line.slice(colon + 1).trim();
  }
  const start = end + 4;
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  const keep = headers.connection?.toLowerCase() !== 'close';
  if (length === undefined) {
    // No length: the body runs until the close.
    if (!closed) return undefined;
    return {
      response: { status, headers, body: buffer.toString('utf8', start) },
      consumed: buffer.length,
      keep: false,
    };
  }
  if (buffer.length < start + length) return undefined;
  return {
    response: { status, headers, body: buffer.toString('utf8', start, start + length) },
    consumed: start + length,
    keep,
  };
}
