/**
 * One local Lambda execution environment, as its users see it: `start` runs init, `invoke` runs one
 * invocation at a time, `shutdown` ends it; between them it answers what happened (event log, output,
 * processes). Invoke runs here; init is init-phase.ts, shutdown shutdown-phase.ts, what the phases share
 * lifecycle-context.ts, and the APIs are served by api-server.ts.
 */
import { randomUUID } from 'node:crypto';
import { ApiServer } from './api-server.js';
import { preciseNowMs } from './clock.js';
import { type LambdaEnvironmentOptions, settingsFrom } from './environment-options.js';
import type { EventLog, SandboxEvent } from './events-log.js';
import { initialize, LambdaInitError } from './init-phase.js';
import { LifecycleContext } from './lifecycle-context.js';
import { sharedSampler } from './memory.js';
import { type NodeBinary, nodeBinary } from './node-binary.js';
import { type ReceiverPorts, receiverPorts } from './ports.js';
import { type ProcessInfo, RUNTIME } from './process-supervisor.js';
import { type Invocation, parseJson, platformErrorType } from './runtime-api.js';
import { reset, type ShutdownResult, terminate } from './shutdown-phase.js';
import {
  durationBetween,
  type InvokeStatus,
  type PhaseSpan,
  platform,
  span,
  type TelemetryEvent,
} from './telemetry-events.js';
import { lambdaTraceHeader, telemetryTracing } from './tracing.js';

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
    const failure = await env.enqueue(() => initialize(env.ctx));
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

  // ---- invoke ---------------------------------------------------------------

  private async runInvocation(payload: unknown, options: InvokeOptions): Promise<InvokeResult> {
    const fromSeq = this.log.cursor;
    if (this.ctx.state === 'idle' && this.ctx.processes.crash) await reset(this.ctx, 'failure');
    let coldStart = false;
    if (this.ctx.state === 'uninitialized') {
      coldStart = true;
      const failure = await initialize(this.ctx);
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
