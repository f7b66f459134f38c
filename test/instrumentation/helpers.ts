/**
 * Shared pieces of the instrumentation tests: a stand-in for the extension's
 * flushed-notice endpoint, a Lambda context, and readers of decoded OTLP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import type { KeyValue, Span } from '../../extension-src/otlp/types.js';
import { LambdaEnvironment, type LambdaEnvironmentOptions } from '../../sandbox/index.js';
import { buildLayer } from '../../scripts/build-extension.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../scripts/build-instrumentation.js';
import { tempDir } from '../sandbox/helpers.js';
import { OtlpSink } from '../support/otlp-sink.js';

/** Records every POST /observed/v1/flushed body, as the extension would receive it. */
/** A flushed notice's body: the request id and where the wrapper put the invocation in its trace. */
export interface NoticeBody {
  requestId: string;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  functionSpanId?: string;
  sampled?: boolean;
}

export class NoticeReceiver {
  readonly requestIds: string[] = [];
  readonly notices: NoticeBody[] = [];
  private server: Server | undefined;

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/observed/v1/flushed') {
          const notice = JSON.parse(Buffer.concat(chunks).toString('utf8')) as NoticeBody;
          this.notices.push(notice);
          this.requestIds.push(notice.requestId);
          res.writeHead(204).end();
        } else {
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  noticeFor(requestId: string): NoticeBody | undefined {
    return this.notices.find((n) => n.requestId === requestId);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';

let requestCounter = 0;

/** A Lambda context as the Node.js runtime builds it, with a fresh request id. */
export function lambdaContext(remainingMs = 30_000) {
  const deadline = Date.now() + remainingMs;
  requestCounter++;
  return {
    awsRequestId: `0000000${requestCounter}-1111-2222-3333-444444444444`,
    functionName: 'orders',
    functionVersion: '$LATEST',
    invokedFunctionArn: `${FUNCTION_ARN}:live`,
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    callbackWaitsForEmptyEventLoop: true,
  };
}

export function hex(bytes: Uint8Array | undefined | null): string {
  return bytes ? Buffer.from(bytes).toString('hex') : '';
}

export function attribute(attributes: readonly KeyValue[] | undefined | null, key: string): unknown {
  const value = attributes?.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.stringValue != null) return value.stringValue;
  if (value.boolValue != null) return value.boolValue;
  if (value.intValue != null) return Number(value.intValue);
  if (value.doubleValue != null) return value.doubleValue;
  return value;
}

export function spanByInvocation(spans: readonly Span[], requestId: string): Span | undefined {
  return spans.find((s) => attribute(s.attributes, 'faas.invocation_id') === requestId);
}

/** Environment of a Lambda function named "orders", pointed at the given backends. */
export function lambdaEnvironment(otlpUrl: string, noticePort: number): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: 'orders',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/23/[$LATEST]0123456789abcdef',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/orders',
    AWS_REGION: 'eu-west-1',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    OBSERVED_RECEIVER_PORT: String(noticePort),
  };
}

/**
 * Waits for what a function process wrote to reach a sink in this process: the function is done once
 * its exports are written to the socket, and the sink reads them on its own time. Resolves with the
 * probe's first value, or undefined after `limitMs` (the assertion that follows then fails).
 */
export async function arrival<T>(probe: () => T | undefined | false, limitMs = 10_000): Promise<T | undefined> {
  const until = Date.now() + limitMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A suite's layer (the extension and the exec wrapper built from source) and
 * OTLP backend, built and started before its tests; the environments it
 * `track`s are shut down after them.
 */
export function useInstrumentedLayer() {
  const backend = new OtlpSink();
  const out = tempDir();
  const environments: LambdaEnvironment[] = [];
  let layerDir = '';
  beforeAll(async () => {
    await backend.start();
    ({ layerDir } = await buildLayer(out.dir));
    await buildInstrumentationLayer(layerDir, join(out.dir, 'maps'));
  });
  afterAll(async () => {
    await Promise.all(environments.splice(0).map((e) => e.shutdown().catch(() => undefined)));
    await backend.stop();
    out.cleanup();
  });
  return {
    backend,
    /** The layer directory, once built. */
    layerDir: () => layerDir,
    track(env: LambdaEnvironment): LambdaEnvironment {
      environments.push(env);
      return env;
    },
    /**
     * Starts a function with the layer and its exec wrapper, the extension exporting to the backend (`env`
     * adds to these settings), shut down after the suite.
     */
    async startWrapped(options: LambdaEnvironmentOptions): Promise<LambdaEnvironment> {
      const env = await LambdaEnvironment.start({
        ...options,
        layers: [layerDir, ...(options.layers ?? [])],
        env: {
          AWS_LAMBDA_EXEC_WRAPPER: join(layerDir, WRAPPER_NAME),
          OBSERVED_OTLP_ENDPOINT: backend.url,
          ...options.env,
        },
      });
      environments.push(env);
      return env;
    },
  };
}

/**
 * For suites that start sinks and servers per test: what is pushed to `cleanups` runs after each
 * test (last first), after stubbed variables and spies are restored.
 */
export function useCleanups() {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    /** An OTLP sink stopped after the test. */
    async startSink(): Promise<OtlpSink> {
      const sink = await new OtlpSink().start();
      cleanups.push(() => sink.stop());
      return sink;
    },
  };
}

/** Lines the instrumentation writes on stderr from now on (still written through); the spy ends with the test. */
export function instrumentationStderr(): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
    if (String(chunk).startsWith('observed-lambda instrumentation:')) lines.push(String(chunk).trim());
    return write(chunk, ...rest);
  }) as typeof process.stderr.write);
  return lines;
}
