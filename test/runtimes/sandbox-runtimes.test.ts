/**
 * The sandbox runs Python and Java functions through AWS's own runtime interface clients (awslambdaric,
 * aws-lambda-java-runtime-interface-client), started by a bootstrap like Lambda's managed runtimes, with
 * AWS_LAMBDA_EXEC_WRAPPER honoured, frozen between invocations, and no node findable on PATH.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type InvokeResult, LambdaEnvironment } from '../../sandbox/index.js';
import { buildJavaFunction, nodeOnPath, requireJavaRuntime, requirePythonRuntime } from '../support/runtimes.js';

const FIXTURES = join(__dirname, 'fixtures');
const python = requirePythonRuntime();
const java = requireJavaRuntime();
const work = mkdtempSync(join(tmpdir(), 'runtimes-sandbox-'));
const started: LambdaEnvironment[] = [];
afterAll(async () => {
  await Promise.all(started.map((e) => e.shutdown()));
  rmSync(work, { recursive: true, force: true });
});

/**
 * Invokes the new environment `env` twice ({ n: 1 }, then { n: 2 }): a cold start, frozen after it, then a warm
 * one, both successful. Returns the second.
 */
async function coldThenWarm(env: LambdaEnvironment): Promise<InvokeResult> {
  started.push(env);
  const first = await env.invoke({ n: 1 });
  expect(env.frozen).toBe(true);
  const second = await env.invoke({ n: 2 });
  expect(first).toMatchObject({ status: 'success', coldStart: true });
  expect(second).toMatchObject({ status: 'success', coldStart: false });
  return second;
}

describe.skipIf(!python)('sandbox: Python functions through awslambdaric', () => {
  it('runs the handler frozen between invocations, with the Python execution environment and no node on PATH', async () => {
    const env = await LambdaEnvironment.start({
      handler: 'app.handler',
      codeDir: join(FIXTURES, 'python-basic'),
      runtime: python!,
    });
    const second = await coldThenWarm(env);
    expect(second.result).toEqual({
      handler: 'handler',
      node: null,
      executionEnv: 'AWS_Lambda_python3.11',
      remainingMs: true,
      event: { n: 2 },
    });
    expect(env.stdout()).toContain(`python handler ${second.requestId}`);
    expect(env.telemetryEvents('platform.initStart')[0].record).toMatchObject({
      runtimeVersion: expect.stringMatching(/^python:3\.11\.v\d+$/),
    });
    // Extensions get the function's PATH: nothing there finds node either.
    expect(env.functionEnv.PATH).not.toBe('');
    expect(nodeOnPath(env.functionEnv)).toBe('');
  });

  it('starts the bootstrap through AWS_LAMBDA_EXEC_WRAPPER, which may change the handler', async () => {
    const codeDir = join(FIXTURES, 'python-basic');
    const env = await LambdaEnvironment.start({
      handler: 'app.handler',
      codeDir,
      runtime: python!,
      env: { AWS_LAMBDA_EXEC_WRAPPER: join(codeDir, 'wrapper.sh') },
    });
    started.push(env);
    const r = await env.invoke({});
    expect(r.result).toEqual({ handler: 'wrapped', wrapper: 'wrapper.sh' });
  });

  it('reports a handler that does not exist as the init error Lambda gives', async () => {
    const env = LambdaEnvironment.start({
      handler: 'app.missing',
      codeDir: join(FIXTURES, 'python-basic'),
      runtime: python!,
    });
    await expect(env).rejects.toMatchObject({ errorType: 'Runtime.HandlerNotFound' });
  });
});

describe.skipIf(!java)('sandbox: Java functions through aws-lambda-java-runtime-interface-client', () => {
  const codeDir = java ? buildJavaFunction(java, join(FIXTURES, 'java-basic'), join(work, 'java-basic')) : '';

  it('runs the handler frozen between invocations, through the exec wrapper, with no node on PATH', async () => {
    const env = await LambdaEnvironment.start({
      handler: 'example.Basic::handleRequest',
      codeDir,
      runtime: java!.runtime,
      memorySizeMb: 512,
      env: { AWS_LAMBDA_EXEC_WRAPPER: join(FIXTURES, 'java-basic', 'wrapper.sh') },
    });
    const second = await coldThenWarm(env);
    expect(second.result).toEqual({
      executionEnv: 'AWS_Lambda_java17',
      node: 'none',
      wrapper: 'wrapper.sh',
      event: { n: 2 },
    });
    expect(env.stdout()).toContain(`java handler ${second.requestId}`);
    expect(nodeOnPath(env.functionEnv)).toBe('');
  });
});
