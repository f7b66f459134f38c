/**
 * One trace per invocation by default: for a function observed through the
 * layer's exec wrapper and one bundled through ObservedFunction's generated
 * entry, with X-Ray active tracing on and off, with a caller's W3C traceparent
 * (API Gateway) or none, with a sampled-out X-Ray header, and with no trace
 * header at all (as under AWS's Runtime Interface Emulator): the function's
 * invocation span, the platform's spans and every function log line of the
 * request (console lines and raw stdout lines alike) carry one trace id, and
 * the parent links make one tree. Run in the sandbox with the extension built
 * from source; everything is read back from an OTLP sink decoding with the
 * official protos.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../../extension-src/otlp/trace-context.js';
import type { LogRecord, Span } from '../../../extension-src/otlp/types.js';
import { attributeValue } from '../../../extension-src/resource/attributes.js';
import { writeEntry } from '../../../lib/function-entry.js';
import { LambdaEnvironment, type LambdaEnvironmentOptions } from '../../../sandbox/index.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../../scripts/build-instrumentation.js';
import { tempDir } from '../../sandbox/helpers.js';
import { OtlpSink } from '../../support/otlp-sink.js';
import { buildExtensionLayer } from './extension-layer.js';

const FUNCTION_CODE = join(__dirname, 'fixtures', 'correlated-fn');
const FUNCTION_NAME = 'orders-api';
const PLATFORM_SCOPE = 'observed-lambda/platform';
const HANDLER_SCOPE = 'observed-lambda/handler';

const sink = new OtlpSink();
const work = tempDir();
let extension: { dir: string; cleanup: () => void } | undefined;
let observedFunctionCode: string;

type Entry = 'exec wrapper' | 'ObservedFunction';

beforeAll(async () => {
  const instrumentation = join(work.dir, 'instrumentation');
  mkdirSync(instrumentation);
  [extension] = await Promise.all([
    buildExtensionLayer(),
    sink.start(),
    buildInstrumentationLayer(instrumentation, join(work.dir, 'maps')),
    bundleObservedFunction(),
  ]);
});

afterAll(async () => {
  await sink.stop();
  extension?.cleanup();
  work.cleanup();
});

/** The fixture bundled through ObservedFunction's generated entry, as NodejsFunction bundles it. */
async function bundleObservedFunction(): Promise<void> {
  observedFunctionCode = join(work.dir, 'observed-function');
  const entry = writeEntry(join(work.dir, 'project'), join(FUNCTION_CODE, 'index.js'), 'handler');
  await build({
    entryPoints: [entry],
    outfile: join(observedFunctionCode, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'error',
  });
}

function environmentFor(entry: Entry, options: Partial<LambdaEnvironmentOptions>): LambdaEnvironmentOptions {
  const exec = entry === 'exec wrapper';
  return {
    handler: 'index.handler',
    codeDir: exec ? FUNCTION_CODE : observedFunctionCode,
    functionName: FUNCTION_NAME,
    layers: exec ? [extension!.dir, join(work.dir, 'instrumentation')] : [extension!.dir],
    ...options,
    env: {
      ...(exec ? { AWS_LAMBDA_EXEC_WRAPPER: join(work.dir, 'instrumentation', WRAPPER_NAME) } : {}),
      OBSERVED_OTLP_ENDPOINT: sink.url,
      OBSERVED_FLUSH: 'end-of-invocation',
      OBSERVED_LOG_LEVEL: 'warn',
      ...options.env,
    },
  };
}

/** An API Gateway REST event, with the caller's traceparent when given. */
function apiEvent(traceparent?: string) {
  return {
    resource: '/orders',
    path: '/orders',
    httpMethod: 'GET',
    headers: traceparent ? { traceparent } : {},
    multiValueHeaders: {},
    requestContext: { domainName: 'abc.execute-api.eu-west-1.amazonaws.com', identity: { sourceIp: '203.0.113.9' } },
  };
}

interface Caller {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

function newCaller(sampled = true): Caller {
  return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), sampled };
}

interface Scenario {
  name: string;
  tracing?: 'Active' | 'PassThrough';
  traceHeader?: 'none';
  /** The X-Amzn-Trace-Id the invoke carries. */
  incomingXRay?: (root: string) => string;
  caller?: boolean;
  /** The caller's sampled flag (default on). */
  callerSampled?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'X-Ray active tracing, no caller trace', tracing: 'Active' },
  { name: 'PassThrough (tracing off), no caller trace', tracing: 'PassThrough' },
  { name: 'X-Ray active tracing, a W3C traceparent from the caller', tracing: 'Active', caller: true },
  { name: 'PassThrough, a W3C traceparent from the caller', tracing: 'PassThrough', caller: true },
  {
    name: 'X-Ray active tracing, a caller header X-Ray sampled out',
    tracing: 'Active',
    incomingXRay: (root) => `Root=${root};Parent=53995c3f42cd8ad8;Sampled=0`,
  },
  { name: 'no _X_AMZN_TRACE_ID at all (as under the Runtime Interface Emulator)', traceHeader: 'none' },
  { name: 'no _X_AMZN_TRACE_ID, a W3C traceparent from the caller', traceHeader: 'none', caller: true },
];

const xrayRoot = () => `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

interface Invocation {
  requestId: string;
  caller?: Caller;
  /** The Root of Lambda's header, as W3C hex, when the runtime got one. */
  xrayTraceId?: string;
}

async function run(entry: Entry, scenario: Scenario, count = 2): Promise<Invocation[]> {
  const env = await LambdaEnvironment.start(
    environmentFor(entry, { tracing: scenario.tracing, traceHeader: scenario.traceHeader }),
  );
  const invocations: Invocation[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const caller = scenario.caller ? newCaller(scenario.callerSampled ?? true) : undefined;
      const root = xrayRoot();
      const r = await env.invoke(
        apiEvent(caller && `00-${caller.traceId}-${caller.spanId}-${caller.sampled ? '01' : '00'}`),
        { incomingTraceHeader: scenario.incomingXRay?.(root) },
      );
      expect(r.status).toBe('success');
      const start = env
        .telemetryEvents('platform.start')
        .find((e) => (e.record as { requestId: string }).requestId === r.requestId);
      const header = (start?.record as { tracing?: { value: string } } | undefined)?.tracing?.value;
      const xray = header && /Root=1-([0-9a-f]{8})-([0-9a-f]{24})/.exec(header);
      invocations.push({ requestId: r.requestId, caller, xrayTraceId: xray ? xray[1] + xray[2] : undefined });
    }
  } finally {
    await env.shutdown();
  }
  return invocations;
}

function spansOf(scope: string): Span[] {
  return sink
    .requests('traces')
    .flatMap((r) => r.resourceSpans ?? [])
    .flatMap((rs) => rs.scopeSpans ?? [])
    .filter((ss) => ss.scope?.name === scope)
    .flatMap((ss) => ss.spans ?? []);
}

function functionLogLines(requestId: string): LogRecord[] {
  return sink
    .logRecords()
    .filter(
      (l) =>
        attributeValue(l.attributes, 'aws.lambda.log.source') === 'function' &&
        attributeValue(l.attributes, 'faas.invocation_id') === requestId,
    );
}

const byRequest = (requestId: string) => (s: Span) => attributeValue(s.attributes, 'faas.invocation_id') === requestId;

/** Checks one invocation: one trace id everywhere, one tree; returns the function's span. */
function expectOneTrace(invocation: Invocation, expectedTraceId: string | undefined): Span {
  const fnSpan = spansOf(HANDLER_SCOPE).find(byRequest(invocation.requestId));
  const invoke = spansOf(PLATFORM_SCOPE).find((s) => s.name === FUNCTION_NAME && byRequest(invocation.requestId)(s));
  expect(fnSpan, 'the function invocation span').toBeDefined();
  expect(invoke, 'the platform invoke span').toBeDefined();
  const traceId = bytesToHex(fnSpan!.traceId);
  if (expectedTraceId) expect(traceId).toBe(expectedTraceId);
  expect(bytesToHex(invoke!.traceId)).toBe(traceId);
  expect(bytesToHex(fnSpan!.parentSpanId)).toBe(bytesToHex(invoke!.spanId));

  // The tree: every span of the trace has its parent in the trace, except one root (under the caller's span).
  const inTrace = [...spansOf(PLATFORM_SCOPE), ...spansOf(HANDLER_SCOPE)].filter(
    (s) => bytesToHex(s.traceId) === traceId,
  );
  const ids = new Set(inTrace.map((s) => bytesToHex(s.spanId)));
  const roots = inTrace.filter((s) => !ids.has(bytesToHex(s.parentSpanId)));
  expect(roots.map((s) => s.name)).toEqual([FUNCTION_NAME]);
  expect(bytesToHex(roots[0].parentSpanId)).toBe(invocation.caller?.spanId ?? '');
  for (const name of ['lambda.runtime', 'lambda.response_latency', 'lambda.post_runtime']) {
    expect(
      inTrace.some((s) => s.name === name && byRequest(invocation.requestId)(s)),
      name,
    ).toBe(true);
  }

  // Every function log line of the request: console lines and the raw stdout line.
  const lines = functionLogLines(invocation.requestId);
  expect(lines.map((l) => l.body?.stringValue).sort()).toEqual(
    ['a raw line without a request id', 'done', 'handling /orders'].sort(),
  );
  for (const line of lines) {
    expect(bytesToHex(line.traceId), String(line.body?.stringValue)).toBe(traceId);
    expect(bytesToHex(line.spanId)).toBe(bytesToHex(fnSpan!.spanId));
    expect(line.flags, 'sampled').toBe(1);
  }
  return fnSpan!;
}

describe.each<Entry>(['exec wrapper', 'ObservedFunction'])('one trace per invocation through the %s', (entry) => {
  it.each(SCENARIOS)('$name', async (scenario) => {
    const invocations = await run(entry, scenario);
    for (const invocation of invocations) {
      const expected = invocation.caller?.traceId ?? invocation.xrayTraceId;
      // The function's span is there: sampled (by the caller, X-Ray, or the SDK's sampler for a new trace).
      expectOneTrace(invocation, expected);
    }
    // The cold start's init span joins the first invocation's trace (checked by the tree above).
    const init = spansOf(PLATFORM_SCOPE).find(
      (s) => s.name === 'lambda.init' && bytesToHex(s.traceId) === expectedTrace(invocations[0]),
    );
    expect(init, 'the init span in the first trace').toBeDefined();
  });
});

function expectedTrace(invocation: Invocation): string {
  const fnSpan = spansOf(HANDLER_SCOPE).find(byRequest(invocation.requestId));
  return bytesToHex(fnSpan?.traceId);
}

describe('a caller that sampled its trace out', () => {
  it('gets no function spans; the platform spans and log lines are in its trace, not sampled', async () => {
    const [invocation] = await run(
      'exec wrapper',
      { name: 'traceparent -00', tracing: 'Active', caller: true, callerSampled: false },
      1,
    );
    const caller = invocation.caller!;
    expect(spansOf(HANDLER_SCOPE).filter(byRequest(invocation.requestId))).toHaveLength(0);
    const platform = spansOf(PLATFORM_SCOPE).filter(byRequest(invocation.requestId));
    const invoke = platform.find((s) => s.name === FUNCTION_NAME);
    expect(invoke).toBeDefined();
    expect(bytesToHex(invoke!.parentSpanId)).toBe(caller.spanId);
    // (Span.flags is newer than the protos the sink decodes with; the log lines below carry the flag.)
    for (const span of platform) expect(bytesToHex(span.traceId)).toBe(caller.traceId);
    const lines = functionLogLines(invocation.requestId);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(bytesToHex(line.traceId)).toBe(caller.traceId);
      expect(bytesToHex(line.spanId)).toBe(bytesToHex(invoke!.spanId));
      expect(line.flags).toBe(0);
    }
  });
});
