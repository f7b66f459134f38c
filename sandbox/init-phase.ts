/**
 * The INIT phase: the function's environment variables, then every extension, which must all register
 * before the runtime starts; init ends when the runtime and every extension wait in /next, within the init
 * limit, and the environment freezes. A failure resets the environment and is reported as Lambda does.
 */
import { randomBytes } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import { preciseNowMs } from './clock.js';
import type { SandboxEvent } from './events-log.js';
import { extensionEnv, findExtensions, functionEnv, logStreamName } from './lambda-env.js';
import type { LifecycleContext } from './lifecycle-context.js';
import { launchFor, type RuntimeLaunch } from './managed-runtimes.js';
import { createNodeTrap } from './node-trap.js';
import { pathWithoutNode } from './path-without-node.js';
import { type Failure, RUNTIME } from './process-supervisor.js';
import { parseJson } from './runtime-api.js';
import { runtimeClientPath } from './runtime-build.js';
import { RUNTIME_SIGTERM_GRACE_MS, reset } from './shutdown-phase.js';
import { durationBetween, platform, type TelemetryEvent } from './telemetry-events.js';
import { sleep } from './waiter.js';

/** The environment's init failed: the extension's or runtime's error, with what the processes printed. */
export class LambdaInitError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    readonly output: Record<string, { stdout: string; stderr: string }>,
    readonly events: SandboxEvent[],
  ) {
    super(`${errorType}: ${message}`);
    this.name = 'LambdaInitError';
  }
}

/** How the function's runtime starts: a managed runtime's bootstrap, or the sandbox's Node.js runtime client. */
interface RuntimeStart {
  managed: RuntimeLaunch | undefined;
  /** The sandbox's runtime client, when no managed runtime is configured. */
  clientPath: string | undefined;
}

/** Runs init; resolves with the failure (the environment then is reset) or undefined once it is frozen. */
export async function initialize(ctx: LifecycleContext): Promise<Failure | undefined> {
  const { log, telemetry, extensionsApi, runtimeApi, processes, waiter, settings } = ctx;
  ctx.state = 'initializing';
  processes.clearCrash();
  ctx.forgetAnnouncedExtensions();
  const startMs = preciseNowMs();
  const deadline = startMs + settings.initTimeoutMs;
  log.add('init.start');
  telemetry.beginInit();
  extensionsApi.registrationOpen = true;

  const managed = settings.runtime && launchFor(settings.runtime, settings.layers, settings.codeDir);
  const start: RuntimeStart = { managed, clientPath: managed ? undefined : await runtimeClientPath() };
  ctx.functionEnv = functionEnvironment(ctx, start);
  telemetry.publish(initStartEvent(ctx, startMs, managed), 'platform');

  const fail = async (f: Failure, status: 'error' | 'failure' | 'timeout', runtimeDone = true): Promise<Failure> => {
    const now = preciseNowMs();
    if (runtimeDone)
      telemetry.publish(
        platform.initRuntimeDone(now, status === 'timeout' ? 'failure' : status, f.errorType),
        'platform',
      );
    telemetry.publish(platform.initReport(now, durationBetween(startMs, now), status, f.errorType), 'platform');
    log.add('init.error', { data: { ...f } });
    await reset(ctx, 'failure');
    return f;
  };

  // Extensions first: each must register before the runtime starts.
  const executables = startExtensions(ctx);
  const extensionFailure = (): Failure | undefined => {
    if (processes.crash) return processes.crash;
    const ext = extensionsApi.all.find((e) => e.initError);
    return ext
      ? { errorType: ext.initError!, errorMessage: `Extension ${ext.name} reported an init error` }
      : undefined;
  };
  const registered = await waiter.until(
    () => !!extensionFailure() || executables.every((e) => extensionsApi.byName(e.name)),
    deadline,
  );
  if (extensionFailure()) return fail(extensionFailure()!, 'error', false);
  if (!registered) {
    const missing = executables.filter((e) => !extensionsApi.byName(e.name)).map((e) => e.name);
    return fail(
      { errorType: 'Sandbox.Timeout', errorMessage: `Extensions did not register in time: ${missing.join(', ')}` },
      'timeout',
      false,
    );
  }

  // Then the runtime.
  const command = runtimeCommand(ctx, start);
  processes.spawn(RUNTIME, 'runtime', command[0], command.slice(1), ctx.functionEnv, settings.codeDir);
  await waiter.until(() => runtimeApi.initialized || !!runtimeApi.initError || !!extensionFailure(), deadline);
  if (runtimeApi.initError) return fail(await runtimeInitFailure(ctx), 'error');
  const runtimeGone = processes.get(RUNTIME)?.exitInfo !== undefined;
  if (runtimeGone && processes.crash) return fail(processes.crash, 'failure');
  if (extensionFailure()) return fail(extensionFailure()!, 'error');
  if (!runtimeApi.initialized) {
    return fail({ errorType: 'Sandbox.Timeout', errorMessage: 'The runtime did not finish init in time' }, 'timeout');
  }
  telemetry.publish(platform.initRuntimeDone(Date.now(), 'success'), 'platform');

  // Init completes when every extension waits in /next too.
  const ready = await waiter.until(() => !!extensionFailure() || extensionsApi.allReady(), deadline);
  if (extensionFailure()) return fail(extensionFailure()!, 'error', false);
  if (!ready) {
    const busy = extensionsApi.all.filter((e) => e.state !== 'ready').map((e) => e.name);
    return fail(
      { errorType: 'Sandbox.Timeout', errorMessage: `Extensions did not call /next in time: ${busy.join(', ')}` },
      'timeout',
      false,
    );
  }
  extensionsApi.registrationOpen = false;
  const endMs = preciseNowMs();
  const durationMs = durationBetween(startMs, endMs);
  telemetry.publish(platform.initReport(endMs, durationMs, 'success'), 'platform');
  telemetry.endInit();
  ctx.pendingInitDurationMs = durationMs;
  ctx.sampleMemory();
  ctx.state = 'idle';
  log.add('init.done', { data: { durationMs } });
  await ctx.freeze();
  return undefined;
}

/** Lambda's variables for the function, the caller's on top, the logging config last. */
function functionEnvironment(ctx: LifecycleContext, { managed, clientPath }: RuntimeStart): Record<string, string> {
  const { settings, node } = ctx;
  const userEnv = { ...(settings.env ?? {}) };
  if (settings.logFormat) userEnv.AWS_LAMBDA_LOG_FORMAT = settings.logFormat;
  if (settings.logLevel) userEnv.AWS_LAMBDA_LOG_LEVEL = settings.logLevel;
  return functionEnv({
    functionName: settings.functionName,
    functionVersion: settings.functionVersion,
    memorySizeMb: settings.memorySizeMb,
    region: settings.region,
    handler: settings.handler,
    codeDir: settings.codeDir,
    layers: settings.layers,
    runtimeApi: ctx.runtimeApiAddress,
    runtimeDir: managed?.runtimeDir ?? dirname(clientPath!),
    logGroupName: `/aws/lambda/${settings.functionName}`,
    logStreamName: logStreamName(settings.functionVersion),
    nodeMajor: node.major,
    nodeDir: dirname(node.path),
    managed,
    receiverPort: ctx.receiverPorts.http,
    receiverGrpcPort: ctx.receiverPorts.grpc,
    defaultReceiverPorts: settings.receiverPorts === 'default',
    userEnv,
  });
}

function initStartEvent(ctx: LifecycleContext, startMs: number, managed: RuntimeLaunch | undefined): TelemetryEvent {
  const { settings, node } = ctx;
  const runtimeName = managed ? managed.runtimeVersion.replace(':', '') : `node${node.version}`;
  return platform.initStart(startMs, {
    functionName: settings.functionName,
    functionVersion: settings.functionVersion,
    functionArn: settings.functionArn,
    instanceId: randomBytes(16).toString('hex'),
    instanceMaxMemory: settings.memorySizeMb * 1024 * 1024,
    runtimeVersion: managed?.runtimeVersion ?? `nodejs:${node.major}.v${node.minor}`,
    runtimeVersionArn: `arn:aws:lambda:${settings.region}::runtime:sandbox-${runtimeName}-${settings.architecture ?? 'x86_64'}`,
  });
}

/** Starts every executable in the layers' `extensions/`, with the variables Lambda gives extensions. */
function startExtensions(ctx: LifecycleContext): ReturnType<typeof findExtensions> {
  const executables = findExtensions(ctx.settings.layers);
  const env = extensionEnv(ctx.functionEnv);
  if (ctx.settings.extensionsWithoutNode) {
    ctx.nodeTrap ??= createNodeTrap();
    env.PATH = [ctx.nodeTrap.dir, pathWithoutNode(env.PATH ?? '')].join(delimiter);
  }
  for (const exe of executables) ctx.processes.spawn(exe.name, 'extension', exe.path, [], env, exe.layer);
  return executables;
}

/** The runtime's command line, through the exec wrapper when one is configured. */
function runtimeCommand(ctx: LifecycleContext, { managed, clientPath }: RuntimeStart): string[] {
  const command = ctx.settings.runtimeCommand ??
    managed?.command ?? [ctx.node.path, '--expose-gc', '--max-http-header-size=81920', clientPath!];
  const wrapper = ctx.functionEnv.AWS_LAMBDA_EXEC_WRAPPER;
  return wrapper ? [wrapper, ...command] : command;
}

/** The error the runtime posted to /runtime/init/error, once it has had its moment to exit. */
async function runtimeInitFailure(ctx: LifecycleContext): Promise<Failure> {
  // The runtime exits by itself after reporting (aws-lambda-ric with status 129): give it that moment
  // before the reset kills what is left.
  const runtime = ctx.processes.get(RUNTIME);
  if (runtime?.running) await Promise.race([runtime.exited, sleep(RUNTIME_SIGTERM_GRACE_MS)]);
  const { errorType, body } = ctx.runtimeApi.initError!;
  const parsed = parseJson(Buffer.from(body)) as { errorMessage?: string } | string;
  const message = typeof parsed === 'object' && parsed?.errorMessage ? parsed.errorMessage : String(body);
  return { errorType, errorMessage: message };
}
