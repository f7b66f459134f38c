/** HTTP client of the Lambda Runtime API, as a runtime uses it. */
import { Agent, request } from 'node:http';

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

// Idle keep-alive sockets are unref'd by Node, so they never keep the event loop alive.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export class RuntimeApiClient {
  private readonly host: string;
  private readonly port: number;

  constructor(endpoint: string) {
    const [host, port] = endpoint.split(':');
    this.host = host;
    this.port = Number(port || 80);
  }

  async next(): Promise<NextInvocation> {
    const res = await this.call('GET', '/2018-06-01/runtime/invocation/next');
    const h = (name: string) => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
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

  private call(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent,
          headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
