/**
 * One local Lambda execution environment, as its users see it: `start` runs init, `invoke` runs one
 * invocation at a time, `shutdown` ends it; between them it answers what happened (event log, output,
 * processes). Init and invoke run here; shutdown is shutdown-phase.ts, what the phases share is
 * lifecycle-context.ts, and the APIs are served by api-server.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import { ApiServer } from './api-server.js';
import { preciseNowMs } from './clock.js';
import { type LambdaEnvironmentOptions, settingsFrom } from './environment-options.js';
import type { EventLog, SandboxEvent } from './events-log.js';
import { extensionEnv, findExtensions, functionEnv, logStreamName } from './lambda-env.js';
import { LifecycleContext } from './lifecycle-context.js';
import { launchFor, type RuntimeLaunch } from './managed-runtimes.js';
import { sharedSampler } from './memory.js';
import { type NodeBinary, nodeBinary } from './node-binary.js';
import { createNodeTrap } from './node-trap.js';
import { pathWithoutNode } from './path-without-node.js';
import { type ReceiverPorts, receiverPorts } from './ports.js';
import { type Failure, type ProcessInfo, RUNTIME } from './process-supervisor.js';
import { type Invocation, parseJson, platformErrorType } from './runtime-api.js';
import { runtimeClientPath } from './runtime-build.js';
import { RUNTIME_SIGTERM_GRACE_MS, reset, type ShutdownResult, terminate } from './shutdown-phase.js';
import {
  durationBetween,
  type InvokeStatus,
  type PhaseSpan,
  platform,
  span,
  type TelemetryEvent,
} from './telemetry-events.js';
import { lambdaTraceHeader, telemetryTracing } from './tracing.js';
import { sleep } from './waiter.js';

export interface InvokeOptions {
  /** Client context (mobile SDK), passed to the runtime as Lambda-Runtime-Client-Context. */
  clientContext?: Record<string, unknown> | string;
  /** The X-Ray header the runtime gets, exactly, instead of the one Lambda would make. */
  traceId?: string;
  /**
   * The caller's X-Amzn-Trace-Id, as Lambda receives it with the invoke: its Root and sampling decision
   * are kept, per the tracing mode (see tracing.ts).
   */
  incomingTraceHeader?: string;
  cognitoIdentity?: Record<string, unknown>;
}

export interface InvokeError {
  errorType: string;
  errorMessage?: string;
  trace?: string[];
  [key: string]: unknown;
}

export interface InvokeResult {
  requestId: string;
  /** `error`: the function returned an error; `failure`: the runtime or an extension crashed; `timeout`: it ran out of time. */
  status: InvokeStatus;
  /** The function's response (JSON-decoded when it is JSON), when status is success. */
  result?: unknown;
  error?: InvokeError;
  /** Invoke phase duration as platform.report gives it (includes extensions' time after the response). */
  durationMs: number;
  /**
   * From the event's delivery to the runtime until its response (or error) was received in full
   * (platform.runtimeDone's responseLatency and responseDuration spans): the time the caller waits
   * on the function. Undefined when the runtime gave no answer.
   */
  responseMs?: number;
  billedDurationMs: number;
  /** Set on a cold start: the init phase that ran for this invocation. */
  initDurationMs?: number;
  coldStart: boolean;
  maxMemoryUsedMB: number;
  /** The event log entries of this invocation (init, if it ran, through freeze or reset). */
  events: SandboxEvent[];
}

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

export class LambdaEnvironment {
  readonly log: EventLog;
  readonly functionName: string;
  readonly functionArn: string;
  readonly memorySizeMb: number;
  readonly timeoutMs: number;
  /** Port of the extension's OTLP/HTTP receiver (OBSERVED_RECEIVER_PORT) in this environment. */
  readonly receiverPort: number;
  /** Port of the extension's OTLP/gRPC receiver (OBSERVED_RECEIVER_GRPC_PORT). */
  readonly receiverGrpcPort: number;
  /** `127.0.0.1:<port>`, the AWS_LAMBDA_RUNTIME_API of this environment. */
  readonly runtimeApiAddress: string;

  /** With `extensionsWithoutNode`: every run of `node` by an extension (its arguments); none is the proof. */
  nodeRunsByExtensions(): string[] {
    return this.ctx.nodeTrap?.runs() ?? [];
  }

  /** The Node.js that runs the function (the nodeBinary option, or the sandbox's own). */
  readonly node: NodeBinary;

  private readonly ctx: LifecycleContext;
  private readonly apiServer: ApiServer;
  /** Invocations and shutdown run one after another, as in one Lambda environment. */
  private queue: Promise<unknown> = Promise.resolve();
  private shutdownResult: Promise<ShutdownResult> | undefined;

  private constructor(options: LambdaEnvironmentOptions, apiServer: ApiServer, receiverPorts: ReceiverPorts) {
    const settings = settingsFrom(options);
    this.node = nodeBinary(options.nodeBinary);
    this.ctx = new LifecycleContext(settings, this.node, apiServer.address, receiverPorts);
    this.log = this.ctx.log;
    this.functionName = settings.functionName;
    this.memorySizeMb = settings.memorySizeMb;
    this.timeoutMs = settings.timeoutMs;
    this.functionArn = settings.functionArn;
    this.apiServer = apiServer;
    this.runtimeApiAddress = apiServer.address;
    ({ http: this.receiverPort, grpc: this.receiverGrpcPort } = receiverPorts);
    apiServer.serve({
      log: this.ctx.log,
      runtimeApi: this.ctx.runtimeApi,
      extensionsApi: this.ctx.extensionsApi,
      telemetry: this.ctx.telemetry,
      telemetrySupported: settings.telemetryApi !== false,
    });
  }

  /**
   * Starts the environment and runs its init phase (extensions, then the
   * runtime). Rejects with LambdaInitError when init fails.
   */
  static async start(options: LambdaEnvironmentOptions): Promise<LambdaEnvironment> {
    // A nodeBinary that does not run is the caller's mistake: say so before anything starts.
    nodeBinary(options.nodeBinary);
    const apiServer = await ApiServer.listen();
    const ports = await receiverPorts(options.env ?? {}, options.receiverPorts ?? 'free');
    const env = new LambdaEnvironment(options, apiServer, ports);
    const failure = await env.enqueue(() => env.init());
    if (failure) {
      const error = new LambdaInitError(failure.errorType, failure.errorMessage, env.output(), [...env.log.entries]);
      await env.close();
      throw error;
    }
    return env;
  }

  /** The whole ordered event log. */
  get events(): readonly SandboxEvent[] {
    return this.log.entries;
  }

  /** Whether the environment's processes are stopped (SIGSTOP) between invocations. */
  get frozen(): boolean {
    return this.ctx.frozen;
  }

  /** The function's environment variables of the current (or last) init. */
  get functionEnv(): Record<string, string> {
    return { ...this.ctx.functionEnv };
  }

  /** Telemetry events generated so far (optionally of one type), in order. */
  telemetryEvents(type?: string): TelemetryEvent[] {
    return this.log.entries
      .filter((e) => e.type === 'telemetry.event')
      .map((e) => e.data?.event as TelemetryEvent)
      .filter((e) => !type || e.type === type);
  }

  /** Resolves with the first log entry (past or future) matching the predicate. */
  waitFor(predicate: (e: SandboxEvent) => boolean, timeoutMs = 10_000): Promise<SandboxEvent> {
    return this.log.waitFor(predicate, timeoutMs);
  }

  /** Everything a process printed (all generations), by name: `runtime` or the extension's file name. */
  stdout(name = RUNTIME): string {
    return this.ctx.processes.stdout(name);
  }

  stderr(name = RUNTIME): string {
    return this.ctx.processes.stderr(name);
  }

  output(): Record<string, { stdout: string; stderr: string }> {
    return this.ctx.processes.output();
  }

  /** The live processes of the current generation. */
  get processInfo(): ProcessInfo[] {
    return this.ctx.processes.info();
  }

  /** Registered extensions of the current generation. */
  get extensions(): { name: string; events: string[]; external: boolean; state: string }[] {
    return this.ctx.extensionsApi.all.map((e) => ({
      name: e.name,
      events: e.events,
      external: e.external,
      state: e.state,
    }));
  }

  /**
   * Invokes the function once (invocations are serial, as in one Lambda
   * environment). Resolves once the environment is frozen again (every
   * extension waits in /next) or has been reset after a timeout or crash.
   */
  invoke(payload: unknown = {}, options: InvokeOptions = {}): Promise<InvokeResult> {
    return this.enqueue(() => this.runInvocation(payload, options));
  }

  /** SHUTDOWN with its deadline, then SIGKILL; closes the API server. */
  shutdown(options: { reason?: string } = {}): Promise<ShutdownResult> {
    // A second call (a test's cleanup after the test shut down itself) gets the first result.
    this.shutdownResult ??= this.enqueue(async () => {
      const result = await terminate(this.ctx, options.reason ?? 'spindown');
      await this.close();
      return result;
    });
    return this.shutdownResult;
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.ctx.state === 'closed') throw new Error('the environment is shut down');
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async close(): Promise<void> {
    this.ctx.state = 'closed';
    await this.apiServer.close();
    await this.ctx.memoryLimit?.remove();
  }

  // ---- init -----------------------------------------------------------------

  private async init(): Promise<Failure | undefined> {
    const options = this.ctx.settings;
    this.ctx.state = 'initializing';
    this.ctx.processes.clearCrash();
    this.ctx.forgetAnnouncedExtensions();
    const startMs = preciseNowMs();
    const deadline = startMs + options.initTimeoutMs;
    this.log.add('init.start');
    this.ctx.telemetry.beginInit();
    this.ctx.extensionsApi.registrationOpen = true;

    const userEnv = { ...(options.env ?? {}) };
    if (options.logFormat) userEnv.AWS_LAMBDA_LOG_FORMAT = options.logFormat;
    if (options.logLevel) userEnv.AWS_LAMBDA_LOG_LEVEL = options.logLevel;
    const managed: RuntimeLaunch | undefined =
      options.runtime && launchFor(options.runtime, options.layers, options.codeDir);
    const clientPath = managed ? undefined : await runtimeClientPath();
    const nodeMajor = this.node.major;
    const version = options.functionVersion;
    this.ctx.functionEnv = functionEnv({
      functionName: this.functionName,
      functionVersion: version,
      memorySizeMb: this.memorySizeMb,
      region: options.region,
      handler: options.handler,
      codeDir: options.codeDir,
      layers: options.layers,
      runtimeApi: this.runtimeApiAddress,
      runtimeDir: managed?.runtimeDir ?? dirname(clientPath!),
      logGroupName: `/aws/lambda/${this.functionName}`,
      logStreamName: logStreamName(version),
      nodeMajor,
      nodeDir: dirname(this.node.path),
      managed,
      receiverPort: this.receiverPort,
      receiverGrpcPort: this.receiverGrpcPort,
      defaultReceiverPorts: options.receiverPorts === 'default',
      userEnv,
    });
    this.ctx.telemetry.publish(
      platform.initStart(startMs, {
        functionName: this.functionName,
        functionVersion: version,
        functionArn: this.functionArn,
        instanceId: randomBytes(16).toString('hex'),
        instanceMaxMemory: this.memorySizeMb * 1024 * 1024,
        runtimeVersion: managed?.runtimeVersion ?? `nodejs:${nodeMajor}.v${this.node.minor}`,
        runtimeVersionArn: `arn:aws:lambda:${options.region}::runtime:sandbox-${managed ? managed.runtimeVersion.replace(':', '') : `node${this.node.version}`}-${options.architecture ?? 'x86_64'}`,
      }),
      'platform',
    );

    const fail = async (f: Failure, status: 'error' | 'failure' | 'timeout', runtimeDone = true): Promise<Failure> => {
      const now = preciseNowMs();
      if (runtimeDone)
        this.ctx.telemetry.publish(
          platform.initRuntimeDone(now, status === 'timeout' ? 'failure' : status, f.errorType),
          'platform',
        );
      this.ctx.telemetry.publish(
        platform.initReport(now, durationBetween(startMs, now), status, f.errorType),
        'platform',
      );
      this.log.add('init.error', { data: { ...f } });
      await reset(this.ctx, 'failure');
      return f;
    };

    // Extensions first: each must register before the runtime starts.
    const executables = findExtensions(options.layers);
    const extEnv = extensionEnv(this.ctx.functionEnv);
    if (options.extensionsWithoutNode) {
      this.ctx.nodeTrap ??= createNodeTrap();
      extEnv.PATH = [this.ctx.nodeTrap.dir, pathWithoutNode(extEnv.PATH ?? '')].join(delimiter);
    }
    for (const exe of executables) this.ctx.processes.spawn(exe.name, 'extension', exe.path, [], extEnv, exe.layer);
    const extensionFailure = (): Failure | undefined => {
      if (this.ctx.processes.crash) return this.ctx.processes.crash;
      const ext = this.ctx.extensionsApi.all.find((e) => e.initError);
      return ext
        ? { errorType: ext.initError!, errorMessage: `Extension ${ext.name} reported an init error` }
        : undefined;
    };
    const registered = await this.ctx.waiter.until(
      () => !!extensionFailure() || executables.every((e) => this.ctx.extensionsApi.byName(e.name)),
      deadline,
    );
    if (extensionFailure()) return fail(extensionFailure()!, 'error', false);
    if (!registered) {
      const missing = executables.filter((e) => !this.ctx.extensionsApi.byName(e.name)).map((e) => e.name);
      return fail(
        { errorType: 'Sandbox.Timeout', errorMessage: `Extensions did not register in time: ${missing.join(', ')}` },
        'timeout',
        false,
      );
    }

    // Then the runtime, through the exec wrapper when one is configured.
    let command = options.runtimeCommand ??
      managed?.command ?? [this.node.path, '--expose-gc', '--max-http-header-size=81920', clientPath!];
    const wrapper = this.ctx.functionEnv.AWS_LAMBDA_EXEC_WRAPPER;
    if (wrapper) command = [wrapper, ...command];
    this.ctx.processes.spawn(RUNTIME, 'runtime', command[0], command.slice(1), this.ctx.functionEnv, options.codeDir);
    await this.ctx.waiter.until(
      () => this.ctx.runtimeApi.initialized || !!this.ctx.runtimeApi.initError || !!extensionFailure(),
      deadline,
    );
    if (this.ctx.runtimeApi.initError) {
      // The runtime exits by itself after reporting (aws-lambda-ric with status 129): give it that moment
      // before the reset kills what is left.
      const runtime = this.ctx.processes.get(RUNTIME);
      if (runtime?.running) await Promise.race([runtime.exited, sleep(RUNTIME_SIGTERM_GRACE_MS)]);
      const { errorType, body } = this.ctx.runtimeApi.initError;
      const parsed = parseJson(Buffer.from(body)) as { errorMessage?: string } | string;
      const message = typeof parsed === 'object' && parsed?.errorMessage ? parsed.errorMessage : String(body);
      return fail({ errorType, errorMessage: message }, 'error');
    }
    const runtimeGone = this.ctx.processes.get(RUNTIME)?.exitInfo !== undefined;
    if (runtimeGone && this.ctx.processes.crash) return fail(this.ctx.processes.crash, 'failure');
    if (extensionFailure()) return fail(extensionFailure()!, 'error');
    if (!this.ctx.runtimeApi.initialized) {
      return fail({ errorType: 'Sandbox.Timeout', errorMessage: 'The runtime did not finish init in time' }, 'timeout');
    }
    this.ctx.telemetry.publish(platform.initRuntimeDone(Date.now(), 'success'), 'platform');

    // Init completes when every extension waits in /next too.
    const ready = await this.ctx.waiter.until(
      () => !!extensionFailure() || this.ctx.extensionsApi.allReady(),
      deadline,
    );
    if (extensionFailure()) return fail(extensionFailure()!, 'error', false);
    if (!ready) {
      const busy = this.ctx.extensionsApi.all.filter((e) => e.state !== 'ready').map((e) => e.name);
      return fail(
        { errorType: 'Sandbox.Timeout', errorMessage: `Extensions did not call /next in time: ${busy.join(', ')}` },
        'timeout',
        false,
      );
    }
    this.ctx.extensionsApi.registrationOpen = false;
    const endMs = preciseNowMs();
    const durationMs = durationBetween(startMs, endMs);
    this.ctx.telemetry.publish(platform.initReport(endMs, durationMs, 'success'), 'platform');
    this.ctx.telemetry.endInit();
    this.ctx.pendingInitDurationMs = durationMs;
    this.ctx.sampleMemory();
    this.ctx.state = 'idle';
    this.log.add('init.done', { data: { durationMs } });
    await this.ctx.freeze();
    return undefined;
  }

  // ---- invoke ---------------------------------------------------------------

  private async runInvocation(payload: unknown, options: InvokeOptions): Promise<InvokeResult> {
    const fromSeq = this.log.cursor;
    if (this.ctx.state === 'idle' && this.ctx.processes.crash) await reset(this.ctx, 'failure');
    let coldStart = false;
    if (this.ctx.state === 'uninitialized') {
      coldStart = true;
      const failure = await this.init();
      if (failure) {
        return {
          requestId: randomUUID(),
          status: 'failure',
          error: { ...failure },
          durationMs: 0,
          billedDurationMs: 0,
          coldStart,
          maxMemoryUsedMB: 0,
          events: this.log.since(fromSeq),
        };
      }
    }
    coldStart = this.ctx.pendingInitDurationMs !== undefined;
    this.ctx.thaw();
    this.ctx.state = 'invoking';

    const requestId = randomUUID();
    const startMs = preciseNowMs();
    // Whole milliseconds, as the Runtime API's Lambda-Runtime-Deadline-Ms gives it; rounded up, so that a
    // timed-out invocation lasts at least its timeout.
    const deadlineMs = Math.ceil(startMs + this.timeoutMs);
    const traceId =
      this.ctx.settings.traceHeader === 'none'
        ? undefined
        : (options.traceId ??
          lambdaTraceHeader(this.ctx.settings.tracing ?? 'PassThrough', options.incomingTraceHeader));
    const tracing = traceId === undefined ? undefined : telemetryTracing(traceId);
    this.ctx.processes.requestId = requestId;
    this.log.add('invoke.start', { requestId, data: { deadlineMs } });
    this.ctx.telemetry.publish(
      platform.start(startMs, requestId, this.ctx.settings.functionVersion, tracing),
      'platform',
      requestId,
    );
    const unwatch = sharedSampler.watch(
      () => this.ctx.processes.groupIds(),
      (bytes) => {
        this.ctx.peakRssBytes = Math.max(this.ctx.peakRssBytes, bytes);
      },
    );

    const clientContext =
      options.clientContext === undefined
        ? undefined
        : typeof options.clientContext === 'string'
          ? options.clientContext
          : JSON.stringify(options.clientContext);
    const inv: Invocation = {
      requestId,
      payload: Buffer.from(JSON.stringify(payload ?? null)),
      deadlineMs,
      invokedFunctionArn: this.functionArn,
      traceId,
      clientContext,
      cognitoIdentity: options.cognitoIdentity ? JSON.stringify(options.cognitoIdentity) : undefined,
    };
    this.ctx.extensionsApi.dispatch({
      eventType: 'INVOKE',
      deadlineMs,
      requestId,
      invokedFunctionArn: this.functionArn,
      ...(traceId === undefined ? {} : { tracing: { type: 'X-Amzn-Trace-Id', value: traceId } }),
    });
    this.ctx.runtimeApi.deliver(inv);

    // The runtime answers, then asks for the next event.
    await this.ctx.waiter.until(() => !!inv.outcome || !!this.ctx.processes.crash, deadlineMs);
    if (inv.outcome)
      await this.ctx.waiter.until(() => this.ctx.runtimeApi.ready || !!this.ctx.processes.crash, deadlineMs);
    let status: InvokeStatus;
    let errorType: string | undefined;
    // A runtime that answered and then exited (an uncaught exception after the response, say)
    // keeps its answer; the environment is reset afterwards all the same.
    const exitedAfterAnswer = !!inv.outcome && this.ctx.processes.crash?.errorType === 'Runtime.ExitError';
    if (this.ctx.processes.crash && !exitedAfterAnswer) {
      status = 'failure';
      errorType = this.ctx.processes.crash.errorType;
    } else if (!inv.outcome || (!this.ctx.runtimeApi.ready && !exitedAfterAnswer)) {
      status = 'timeout';
      errorType = 'Sandbox.Timedout';
    } else if (inv.outcome.kind === 'error') {
      status = 'error';
      errorType = platformErrorType(inv.outcome.errorType);
    } else {
      status = 'success';
    }
    const runtimeDoneMs = preciseNowMs();
    const runtimeStartMs = inv.deliveredMs ?? startMs;
    const spans: PhaseSpan[] = [];
    if (inv.responseStartMs !== undefined && inv.responseEndMs !== undefined) {
      spans.push(span('responseLatency', runtimeStartMs, inv.responseStartMs));
      spans.push(span('responseDuration', inv.responseStartMs, inv.responseEndMs));
    }
    this.ctx.telemetry.publish(
      platform.runtimeDone(runtimeDoneMs, {
        requestId,
        status,
        errorType,
        durationMs: durationBetween(runtimeStartMs, runtimeDoneMs),
        producedBytes: inv.outcome?.kind === 'response' ? inv.outcome.body.length : 0,
        spans,
        tracing,
      }),
      'platform',
      requestId,
    );

    // Then every extension must be back in /next (their time counts against the timeout).
    const reportSpans: PhaseSpan[] = [];
    if ((status === 'success' || status === 'error') && !exitedAfterAnswer) {
      const extStart = preciseNowMs();
      const ready = await this.ctx.waiter.until(
        () => this.ctx.extensionsApi.allReady() || !!this.ctx.processes.crash,
        deadlineMs,
      );
      if (this.ctx.processes.crash) {
        status = 'failure';
        errorType = this.ctx.processes.crash.errorType;
      } else if (!ready) {
        status = 'timeout';
        errorType = 'Sandbox.Timedout';
      }
      if (this.ctx.extensionsApi.all.length > 0) reportSpans.push(span('extensionOverhead', extStart, preciseNowMs()));
    }
    const endMs = preciseNowMs();
    this.ctx.sampleMemory();
    unwatch();
    const durationMs = durationBetween(startMs, endMs);
    const initDurationMs = this.ctx.pendingInitDurationMs;
    this.ctx.pendingInitDurationMs = undefined;
    const maxMemoryUsedMB = Math.ceil(this.ctx.peakRssBytes / (1024 * 1024));
    this.ctx.telemetry.publish(
      platform.report(endMs, {
        requestId,
        status,
        errorType: status === 'success' ? undefined : errorType,
        durationMs,
        memorySizeMB: this.memorySizeMb,
        maxMemoryUsedMB,
        initDurationMs,
        spans: reportSpans,
        tracing,
      }),
      'platform',
      requestId,
    );

    if (status === 'timeout' || status === 'failure' || exitedAfterAnswer) {
      if (status === 'timeout') this.log.add('timeout', { requestId, data: { timeoutMs: this.timeoutMs } });
      await reset(this.ctx, status === 'timeout' ? 'timeout' : 'failure');
    } else {
      this.ctx.state = 'idle';
      await this.ctx.freeze();
    }
    this.ctx.processes.requestId = undefined;
    this.log.add('invoke.done', { requestId, data: { status } });

    const result: InvokeResult = {
      requestId,
      status,
      durationMs,
      billedDurationMs: Math.max(1, Math.ceil(durationMs)),
      initDurationMs,
      coldStart,
      maxMemoryUsedMB,
      events: this.log.since(fromSeq),
    };
    if (inv.deliveredMs !== undefined && inv.responseEndMs !== undefined) {
      result.responseMs = durationBetween(inv.deliveredMs, inv.responseEndMs);
    }
    if (status === 'success' && inv.outcome?.kind === 'response') {
      result.result = parseJson(inv.outcome.body);
    } else if (status === 'error' && inv.outcome?.kind === 'error') {
      const body = parseJson(inv.outcome.body);
      result.error =
        body && typeof body === 'object'
          ? { errorType: inv.outcome.errorType, ...(body as Record<string, unknown>) }
          : { errorType: inv.outcome.errorType, errorMessage: String(body) };
    } else if (status === 'timeout') {
      result.error = {
        errorType: 'Sandbox.Timedout',
        errorMessage: `${new Date(endMs).toISOString()} ${requestId} Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`,
      };
    } else if (status === 'failure') {
      result.error = {
        errorType: errorType ?? 'Runtime.Unknown',
        errorMessage: this.ctx.processes.crash?.errorMessage,
      };
    }
    return result;
  }
}
