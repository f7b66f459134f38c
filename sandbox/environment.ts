/**
 * One local Lambda execution environment, as its users see it: `start` runs init, `invoke` runs one
 * invocation at a time, `shutdown` ends it; between them it answers what happened (event log, output,
 * processes). The lifecycle's phases are init-phase.ts, invoke-phase.ts and shutdown-phase.ts, over what
 * lifecycle-context.ts holds for them; api-server.ts serves the Runtime, Extensions and Telemetry APIs.
 */
import { ApiServer } from './api-server.js';
import { type LambdaEnvironmentOptions, settingsFrom } from './environment-options.js';
import type { EventLog, SandboxEvent } from './events-log.js';
import { initialize, LambdaInitError } from './init-phase.js';
import { type InvokeOptions, type InvokeResult, runInvocation } from './invoke-phase.js';
import { LifecycleContext } from './lifecycle-context.js';
import { type NodeBinary, nodeBinary } from './node-binary.js';
import { type ReceiverPorts, receiverPorts } from './ports.js';
import { type ProcessInfo, RUNTIME } from './process-supervisor.js';
import { type ShutdownResult, terminate } from './shutdown-phase.js';
import type { TelemetryEvent } from './telemetry-events.js';

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
    return this.enqueue(() => runInvocation(this.ctx, payload, options));
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
}
