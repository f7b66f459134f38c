/**
 * Which auto-instrumentations run. Three ship in the bundle and are on by
 * default (AWS SDK v3, http/https, undici/fetch); the standard
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS
 * lists (short names, as `@opentelemetry/auto-instrumentations-node` reads
 * them; `none` turns them all off) change the set. A name that is not bundled is loaded from the
 * function's own dependencies (`@opentelemetry/instrumentation-<name>`), so
 * the layer stays small. Each one is required only when enabled (their
 * modules are the largest part of the cold-start cost), and the AWS SDK one
 * only when the function starts loading the AWS SDK.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { describeError, warnOnce } from '../log.js';
import { beforeFirstLoad } from './before-first-load.js';

export const DEFAULT_INSTRUMENTATIONS: readonly string[] = ['aws-sdk', 'http', 'undici'];

/** The Lambda handler is instrumented by wrapHandler itself; the name is accepted and needs nothing else. */
const HANDLED_BY_WRAPPER = new Set(['aws-lambda']);

const BUNDLED: Record<string, () => Instrumentation> = {
  'aws-sdk': () => {
    const { AwsInstrumentation } =
      require('@opentelemetry/instrumentation-aws-sdk') as typeof import('@opentelemetry/instrumentation-aws-sdk');
    // The HTTP request under each AWS call keeps its span: the http instrumentation is what puts
    // traceparent and X-Amzn-Trace-Id on it (SQS turns the latter into the message's AWSTraceHeader).
    return new AwsInstrumentation();
  },
  http: () => {
    const { HttpInstrumentation } =
      require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
    return new HttpInstrumentation({
      // Invocations arrive through the Runtime API, not an HTTP server of the function.
      disableIncomingRequestInstrumentation: true,
      ignoreOutgoingRequestHook: (request) => isRuntimeApi(request.hostname ?? request.host, request.port),
    });
  },
  undici: () => {
    const { UndiciInstrumentation } =
      require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
    return new UndiciInstrumentation({
      ignoreRequestHook: (request) => {
        try {
          const origin = new URL(request.origin);
          return isRuntimeApi(origin.hostname, origin.port);
        } catch {
          return false;
        }
      },
    });
  },
};

/** Bundled instrumentations that start when the first module they instrument starts loading. */
const STARTED_ON_FIRST_USE: Record<string, (request: string) => boolean> = {
  // A client package (`@aws-sdk/client-s3`, or its file path when an ES module imports it) loads before
  // the @smithy modules the instrumentation patches.
  'aws-sdk': (request) => /(^|\/)@(aws-sdk|smithy)\//.test(request),
};

/** The runtime's own calls to the Lambda Runtime API are not the function's work. */
function isRuntimeApi(host: string | null | undefined, port: string | number | null | undefined): boolean {
  const runtimeApi = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi || !host) return false;
  const target = port ? `${host}:${port}` : host;
  return target === runtimeApi || (!port && host === runtimeApi);
}

function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((name) => name.trim().replace(/^@opentelemetry\/instrumentation-/, ''))
    .filter(Boolean);
}

/** The names of the instrumentations to enable, in order, without duplicates. */
export function selectedInstrumentations(
  requested: readonly string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const enabled = requested ?? parseList(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS) ?? DEFAULT_INSTRUMENTATIONS;
  const disabled = new Set(parseList(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS) ?? []);
  return [...new Set(enabled)].filter(
    (name) => name !== 'none' && !disabled.has(name) && !HANDLED_BY_WRAPPER.has(name),
  );
}

/**
 * Starts the named instrumentations (the AWS SDK one when the AWS SDK starts loading) and returns the
 * names of those started or waiting; a name that cannot be loaded is reported once.
 */
export function startInstrumentations(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const now: Instrumentation[] = [];
  const started: string[] = [];
  for (const name of names) {
    const trigger = STARTED_ON_FIRST_USE[name];
    if (trigger) {
      beforeFirstLoad(trigger, () => register(create(name, env)));
      started.push(name);
      continue;
    }
    const instrumentation = create(name, env);
    if (instrumentation) {
      now.push(instrumentation);
      started.push(name);
    }
  }
  register(...now);
  return started;
}

function create(name: string, env: NodeJS.ProcessEnv): Instrumentation | undefined {
  try {
    return BUNDLED[name]?.() ?? fromFunctionDependencies(name, env);
  } catch (error) {
    warnOnce(`instrumentation:${name}`, `instrumentation "${name}" could not start: ${describeError(error)}`);
    return undefined;
  }
}

function register(...instrumentations: (Instrumentation | undefined)[]): void {
  const present = instrumentations.filter((i) => i !== undefined);
  if (present.length === 0) return;
  try {
    const { registerInstrumentations } =
      require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
    registerInstrumentations({ instrumentations: present });
  } catch (error) {
    warnOnce('instrumentation:register', `instrumentations could not be registered: ${describeError(error)}`);
  }
}

function fromFunctionDependencies(name: string, env: NodeJS.ProcessEnv): Instrumentation | undefined {
  const packageName = `@opentelemetry/instrumentation-${name}`;
  const taskRoot = env.LAMBDA_TASK_ROOT || process.cwd();
  let loaded: Record<string, unknown>;
  try {
    loaded = createRequire(join(taskRoot, 'package.json'))(packageName) as Record<string, unknown>;
  } catch {
    warnOnce(
      `instrumentation:${name}`,
      `OTEL_NODE_ENABLED_INSTRUMENTATIONS: "${name}" is not bundled in the layer and ${packageName} is not among the function's dependencies; it is skipped (bundled: ${Object.keys(BUNDLED).join(', ')}).`,
    );
    return undefined;
  }
  const Constructor = Object.entries(loaded).find(
    ([exportName, value]) => exportName.endsWith('Instrumentation') && typeof value === 'function',
  )?.[1] as (new () => Instrumentation) | undefined;
  if (!Constructor) {
    warnOnce(`instrumentation:${name}`, `${packageName} exports no *Instrumentation class; it is skipped.`);
    return undefined;
  }
  return new Constructor();
}
