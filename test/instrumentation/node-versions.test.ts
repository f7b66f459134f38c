/**
 * The layer under the Node.js versions of Lambda's current Node.js runtimes (nodejs22.x,
 * nodejs24.x), installed by scripts/install-node-runtimes.sh and run through the sandbox's
 * nodeBinary: plain CommonJS and ES module functions with the extension and the exec wrapper get
 * their invocation span and their own metric to the backend, and ES module handlers are wrapped
 * in-thread (module.registerHooks); on Node.js 20 (no registerHooks) through the layer's entry
 * module, with no module hooks and no loader thread either.
 * What shows the in-thread path is what a user can check too: the runtime's thread count
 * (/proc/<pid>/status) against the same function without the wrapper, and the line the loader
 * writes with OTEL_LOG_LEVEL=debug.
 *
 * A version that is not installed fails the suite under CI (.ci/run installs both) and is skipped
 * elsewhere.
 */
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { WRAPPER_NAME } from '../../scripts/build-instrumentation.js';
import {
  INSTALL_HINT,
  installedNodeRuntime,
  LAMBDA_NODE_MAJORS,
  nodeRuntimePath,
} from '../../scripts/node-runtimes.js';
import { attribute, spanByInvocation, useInstrumentedLayer } from './helpers.js';

const CODE = join(__dirname, 'fixtures', 'functions', 'node-versions');
const IN_CI = !!process.env.CI && process.env.CI !== 'false';
const runtimes = LAMBDA_NODE_MAJORS.map((major) => ({ major, node: installedNodeRuntime(major) }));

const layer = useInstrumentedLayer();
const { backend } = layer;

interface StartOptions {
  node?: string;
  handler: string;
  functionName: string;
  wrapped?: boolean;
  env?: Record<string, string>;
}

async function start({ node, handler, functionName, wrapped = true, env = {} }: StartOptions) {
  const environment = await LambdaEnvironment.start({
    handler,
    codeDir: CODE,
    functionName,
    nodeBinary: node,
    layers: [layer.layerDir()],
    timeoutMs: 10_000,
    env: {
      ...(wrapped ? { AWS_LAMBDA_EXEC_WRAPPER: join(layer.layerDir(), WRAPPER_NAME) } : {}),
      OBSERVED_OTLP_ENDPOINT: backend.url,
      OBSERVED_FLUSH: 'end-of-invocation',
      OBSERVED_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  layer.track(environment);
  return environment;
}

function pidOf(environment: LambdaEnvironment, name: string): number {
  const pid = environment.processInfo.find((p) => p.name === name)?.pid;
  if (pid === undefined) throw new Error(`no ${name} process`);
  return pid;
}

/** Threads of a process, as `grep Threads: /proc/<pid>/status` shows them. */
function threadCount(pid: number): number {
  return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** The function's own counter points, as the backend has them for one service. */
function counterPoints(service: string) {
  return backend
    .requests('metrics')
    .flatMap((request) => request.resourceMetrics ?? [])
    .filter((rm) => attribute(rm.resource?.attributes, 'service.name') === service)
    .flatMap((rm) => rm.scopeMetrics ?? [])
    .flatMap((sm) => sm.metrics ?? [])
    .filter((m) => m.name === 'fixture.node_versions')
    .flatMap((m) => m.sum?.dataPoints ?? []);
}

const hex = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('hex');

const FORMATS = [
  { format: 'CommonJS', handler: 'commonjs.handler', short: 'cjs' },
  { format: 'ES module', handler: 'module.handler', short: 'esm' },
] as const;

for (const { major, node } of runtimes) {
  describe(`Node.js ${major} (nodejs${major}.x)`, () => {
    if (!node) {
      const missing = `Node.js ${major} is not installed at ${nodeRuntimePath(major)}: ${INSTALL_HINT}`;
      if (IN_CI) {
        it('is installed', () => {
          throw new Error(`${missing} (.ci/run does before npm test)`);
        });
      } else {
        it.skip(`skipped: ${missing}`, () => undefined);
      }
      return;
    }

    it.each(FORMATS)(
      'a plain $format function with the layer has its invocation span and its metric at the backend',
      async ({ format, handler, short }) => {
        const functionName = `node${major}-${short}`;
        const environment = await start({ node, handler, functionName });
        expect(environment.node.major).toBe(major);
        expect(environment.functionEnv.AWS_EXECUTION_ENV).toBe(`AWS_Lambda_nodejs${major}.x`);
        // The runtime and the extension (#!/usr/bin/env node) both run the chosen binary.
        for (const name of ['runtime', 'observed-lambda']) {
          expect(readlinkSync(`/proc/${pidOf(environment, name)}/exe`)).toBe(realpathSync(node));
        }

        const results = [await environment.invoke({}), await environment.invoke({})];
        for (const [i, r] of results.entries()) {
          expect(r.status).toBe('success');
          const result = r.result as { node: string; traceId?: string; url?: string };
          expect(result.node).toBe(`v${environment.node.version}`);
          const span = spanByInvocation(backend.spans(), r.requestId);
          expect(span?.name).toBe(functionName);
          expect(attribute(span?.attributes, 'faas.coldstart')).toBe(i === 0);
          // The handler ran inside the invocation span: the runtime called the wrapped export.
          expect(result.traceId).toBe(hex(span?.traceId));
          if (format === 'ES module') {
            // The facade served the handler's URL and loaded the real module behind it.
            expect(result.url).toMatch(/\/module\.mjs\?observed-original$/);
          }
        }
        const points = counterPoints(functionName);
        expect(points.some((p) => attribute(p.attributes, 'node') === `v${environment.node.version}`)).toBe(true);
        expect(environment.stderr()).not.toContain('observed-lambda instrumentation:');
      },
    );

    it('wraps an ES module handler in-thread: no thread beyond the unwrapped function, and says so at debug level', async () => {
      const plain = await start({
        node,
        handler: 'module.handler',
        functionName: `node${major}-plain`,
        wrapped: false,
      });
      const wrapped = await start({
        node,
        handler: 'module.handler',
        functionName: `node${major}-debug`,
        env: { OTEL_LOG_LEVEL: 'debug' },
      });
      // Both have finished init and are frozen: their thread counts are settled.
      expect(threadCount(pidOf(wrapped, 'runtime'))).toBe(threadCount(pidOf(plain, 'runtime')));
      expect(wrapped.stderr()).toMatch(
        /observed-lambda instrumentation: debug: ES module handler \S+\/module\.mjs wrapped in-thread through module\.registerHooks/,
      );
      const r = await wrapped.invoke({});
      expect((r.result as { url: string }).url).toMatch(/\?observed-original$/);
      expect(spanByInvocation(backend.spans(), r.requestId)).toBeDefined();
    });
  });
}

// Where module.registerHooks is missing (Node.js 20): the layer's entry module, no module hooks at all.
const hasRegisterHooks = typeof (nodeModule as { registerHooks?: unknown }).registerHooks === 'function';
describe.runIf(!hasRegisterHooks)(`Node.js ${process.versions.node} (this process, no module.registerHooks)`, () => {
  it("wraps an ES module handler through the layer's entry: no extra thread, the function's own _HANDLER and module URL", async () => {
    const plain = await start({ handler: 'module.handler', functionName: 'current-plain', wrapped: false });
    const wrapped = await start({
      handler: 'module.handler',
      functionName: 'current-debug',
      env: { OTEL_LOG_LEVEL: 'debug' },
    });
    // Both have finished init and are frozen: their thread counts are settled.
    expect(threadCount(pidOf(wrapped, 'runtime'))).toBe(threadCount(pidOf(plain, 'runtime')));
    expect(wrapped.stderr()).toMatch(
      /observed-lambda instrumentation: debug: ES module handler \S+\/module\.mjs wrapped through the layer's entry module/,
    );

    const r = await wrapped.invoke({});
    const result = r.result as { handlerName?: string; url?: string; traceId?: string };
    expect(result.handlerName).toBe('module.handler');
    expect(result.url).toMatch(/\/module\.mjs$/);
    expect(result.traceId).toBe(hex(spanByInvocation(backend.spans(), r.requestId)?.traceId));
  });

  it("reports a missing ES module export as the runtime does, under the function's handler name", async () => {
    const failed = start({ handler: 'module.missing', functionName: 'current-missing' });
    await expect(failed).rejects.toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      message: expect.stringContaining('module.missing is undefined or not exported'),
    });
  });
});
