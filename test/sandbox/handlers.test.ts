import { afterAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment, LambdaInitError, type TelemetryEvent } from '../../sandbox/index.js';
import { CJS_CODE, EnvironmentPool, ESM_CODE, WRAPPER } from './helpers.js';

const pool = new EnvironmentPool();
afterAll(() => pool.shutdownAll());

async function start(handler: string, extra: Partial<Parameters<typeof LambdaEnvironment.start>[0]> = {}) {
  return pool.add(await LambdaEnvironment.start({ handler, codeDir: CJS_CODE, ...extra }));
}

describe('sandbox runtime: handlers', () => {
  it('runs a CommonJS async handler with the Lambda context and trace id', async () => {
    const env = await start('index.handler', { functionName: 'orders', memorySizeMb: 256 });
    const r = await env.invoke(
      { id: 7 },
      { traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
    );
    expect(r.status).toBe('success');
    expect(r.result).toMatchObject({
      echo: { id: 7 },
      requestId: r.requestId,
      functionName: 'orders',
      memoryLimitInMB: '256',
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    });
    const startEvent = env.telemetryEvents('platform.start')[0].record as { tracing: Record<string, string> };
    expect(startEvent.tracing).toEqual({
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      type: 'X-Amzn-Trace-Id',
      value: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    });
    const remaining = (r.result as { remainingMs: number }).remainingMs;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(3000);
    // Text log format: <time>\t<requestId>\tINFO\t<message>
    expect(env.stdout()).toMatch(new RegExp(`^\\S+Z\\t${r.requestId}\\tINFO\\thandling \\{"id":7\\}$`, 'm'));
  });

  it('runs ES module handlers: .js under "type": "module" with top-level await, and .mjs', async () => {
    const app = pool.add(await LambdaEnvironment.start({ handler: 'app.handler', codeDir: ESM_CODE }));
    expect((await app.invoke({ x: 1 })).result).toEqual({ esm: true, started: 'number', echo: { x: 1 } });
    const mjs = pool.add(await LambdaEnvironment.start({ handler: 'other.handler', codeDir: ESM_CODE }));
    expect((await mjs.invoke()).result).toBe('mjs ok');
  });

  it('resolves nested handler names', async () => {
    const env = await start('index.nested.deeper.handler');
    expect((await env.invoke()).result).toBe('nested ok');
  });

  it('answers a callback handler once the event loop is empty, unless told not to wait', async () => {
    const env = await start('index.callback');
    const r = await env.invoke();
    expect(r.result).toEqual({ viaCallback: true, waits: true });
    const lines = r.events
      .filter((e) => e.type === 'log' || e.type === 'runtime.response')
      .map((e) => (e.type === 'log' ? String(e.data?.line) : 'RESPONSE'));
    const timerLine = lines.findIndex((l) => l.endsWith('timer after callback'));
    expect(timerLine).toBeGreaterThanOrEqual(0);
    expect(timerLine).toBeLessThan(lines.indexOf('RESPONSE'));

    const noWait = await start('index.callbackNoWait');
    const r2 = await noWait.invoke();
    expect(r2.result).toEqual({ viaCallback: true, waits: false });
    expect(r2.durationMs).toBeLessThan(900);
  });

  it('reports handler errors as {errorType, errorMessage, trace} with status error', async () => {
    const env = await start('index.fails');
    const r = await env.invoke();
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'the order is missing' });
    expect(Array.isArray(r.error?.trace)).toBe(true);
    expect((r.error?.trace as string[] | undefined)?.[0]).toContain('TypeError: the order is missing');
    const runtimeDone = r.events
      .filter((e) => e.type === 'telemetry.event')
      .map((e) => e.data?.event as TelemetryEvent)
      .find((e) => e.type === 'platform.runtimeDone');
    expect(runtimeDone?.record).toMatchObject({ status: 'error', errorType: 'Runtime.Unknown' });
    // The log line shows the error as aws-lambda-ric does: its stack as `stack`, not the Runtime API's `trace`.
    const line = env
      .stdout()
      .split('\n')
      .find((l) => l.includes('\tERROR\tInvoke Error \t'));
    const logged = JSON.parse(line!.slice(line!.indexOf('\t{') + 1));
    expect(logged).toMatchObject({ errorType: 'TypeError', errorMessage: 'the order is missing' });
    expect(logged.stack[0]).toContain('TypeError: the order is missing');
    expect(logged).not.toHaveProperty('trace');
    // The environment stays usable after a function error.
    expect((await env.invoke()).status).toBe('error');

    const cb = await start('index.callbackError');
    expect((await cb.invoke()).error).toMatchObject({ errorType: 'Error', errorMessage: 'callback failure' });
  });

  it('fails init clearly when the handler or its module is missing', async () => {
    const missingExport = LambdaEnvironment.start({ handler: 'index.nope', codeDir: CJS_CODE });
    await expect(missingExport).rejects.toBeInstanceOf(LambdaInitError);
    await expect(missingExport).rejects.toMatchObject({ errorType: 'Runtime.HandlerNotFound' });
    const missingModule = LambdaEnvironment.start({ handler: 'absent.handler', codeDir: CJS_CODE });
    await expect(missingModule).rejects.toMatchObject({
      errorType: 'Runtime.ImportModuleError',
      message: expect.stringContaining("Cannot find module 'absent'"),
    });
    // As aws-lambda-ric: logged as an uncaught exception of the init phase, and the runtime exits with 129.
    const failed = (await missingModule.catch((error: unknown) => error)) as LambdaInitError;
    expect(failed.output.runtime.stdout).toMatch(
      /\tERROR\tUncaught Exception \t\{"errorType":"Runtime.ImportModuleError"/,
    );
    const exit = failed.events.find((e) => e.type === 'process.exit' && e.name === 'runtime');
    expect(exit?.data).toMatchObject({ code: 129 });
  });

  it('runs the runtime through AWS_LAMBDA_EXEC_WRAPPER with the runtime command as arguments', async () => {
    const env = await start('index.wrapped', { env: { AWS_LAMBDA_EXEC_WRAPPER: WRAPPER } });
    const r = await env.invoke();
    expect(r.result).toEqual({ wrappedBy: 'sandbox-test-wrapper' });
    expect(env.stderr()).toContain(`wrapper saw: ${process.execPath}`);
  });

  it('reports a wrapper that cannot be started as Runtime.InvalidEntrypoint', async () => {
    const attempt = LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir: CJS_CODE,
      env: { AWS_LAMBDA_EXEC_WRAPPER: '/nonexistent/wrapper' },
    });
    await expect(attempt).rejects.toMatchObject({ errorType: 'Runtime.InvalidEntrypoint' });
  });

  it('lets the runtime process register an internal extension (INVOKE only) during init', async () => {
    const env = await start('internal.handler');
    expect(env.extensions).toEqual([{ name: 'internal-agent', events: ['INVOKE'], external: false, state: 'ready' }]);
    const r = await env.invoke();
    const result = r.result as {
      registration: { refused: unknown; status: number };
      seen: string[];
      requestId: string;
    };
    expect(result.registration.status).toBe(200);
    expect(result.registration.refused).toMatchObject({ errorType: 'Extension.InvalidEventType' });
    expect(result.seen).toEqual([r.requestId]);
  });

  it('passes the client context', async () => {
    const env = await start('index.clientContext');
    const r = await env.invoke({}, { clientContext: { custom: { tenant: 'a' } } });
    expect(r.result).toEqual({ clientContext: { custom: { tenant: 'a' } } });
  });

  it('writes JSON log lines with AWS_LAMBDA_LOG_FORMAT=JSON, filtered by level', async () => {
    const env = await start('index.logsJson', { logFormat: 'JSON' });
    const r = await env.invoke();
    const lines = env
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'structured 42',
        requestId: r.requestId,
        timestamp: expect.any(String),
      }),
      expect.objectContaining({ level: 'WARN', message: 'careful' }),
    ]);
  });

  it('treats a runtime that exits during an invocation as a failure and starts cold next time', async () => {
    const env = await start('index.crashes');
    const r = await env.invoke();
    expect(r.status).toBe('failure');
    expect(r.error?.errorType).toBe('Runtime.ExitError');
    expect(r.error?.errorMessage).toBe('Runtime exited with error: exit status 3');
    expect(r.events.some((e) => e.type === 'reset')).toBe(true);
    const next = await env.invoke();
    expect(next.coldStart).toBe(true);
    expect(next.initDurationMs).toBeGreaterThan(0);
  });

  it('answers an unhandled rejection with Runtime.UnhandledPromiseRejection, then starts cold', async () => {
    const env = await start('index.rejects');
    const r = await env.invoke();
    expect(r.status).toBe('error');
    expect(r.error).toMatchObject({
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: expect.stringContaining('nobody waits for me'),
    });
    expect(r.events.map((e) => e.type)).toContain('reset');
    expect((await env.invoke()).coldStart).toBe(true);
  });

  it('refuses responses over 6 MiB with Function.ResponseSizeTooLarge', async () => {
    const env = await start('index.huge');
    const r = await env.invoke();
    expect(r.status).toBe('error');
    expect(r.error?.errorType).toBe('Function.ResponseSizeTooLarge');
    expect(r.events.find((e) => e.type === 'runtime.api-error')?.data).toMatchObject({
      errorType: 'RequestEntityTooLarge',
    });
  });

  it('keeps a multi-line console message as one function log record; raw stdout is one record per line', async () => {
    const env = await start('index.multiline');
    const r = await env.invoke();
    const records = r.events.filter((e) => e.type === 'log').map((e) => String(e.data?.line));
    expect(records.find((l) => l.includes('first line'))).toMatch(/\tINFO\tfirst line\nsecond line$/);
    expect(records).toEqual(expect.arrayContaining(['raw one', 'raw two']));
  });

  it('gives the function the Lambda environment variables', async () => {
    const env = await start('index.handler', { functionName: 'vars', env: { MY_SETTING: 'x' } });
    const vars = env.functionEnv;
    expect(vars).toMatchObject({
      _HANDLER: 'index.handler',
      AWS_LAMBDA_FUNCTION_NAME: 'vars',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/vars',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: expect.stringMatching(/^AWS_Lambda_nodejs\d+\.x$/),
      AWS_LAMBDA_RUNTIME_API: env.runtimeApiAddress,
      LAMBDA_TASK_ROOT: CJS_CODE,
      TZ: ':UTC',
      MY_SETTING: 'x',
      OBSERVED_RECEIVER_PORT: String(env.receiverPort),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${env.receiverPort}`,
    });
    expect(vars.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  });
});
