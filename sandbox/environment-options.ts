/**
 * What a caller sets for one environment, and the defaults applied where it sets nothing (those of a new
 * Lambda function, or the sandbox's own where Lambda has none).
 */
import { resolve } from 'node:path';
import type { ManagedRuntime } from './managed-runtimes.js';
import type { OutputStream } from './processes.js';
import type { TracingMode } from './tracing.js';

export interface LambdaEnvironmentOptions {
  /** `file.export`, relative to codeDir (e.g. `index.handler`, `src/app.main`). */
  handler: string;
  /** The function's code (LAMBDA_TASK_ROOT). */
  codeDir: string;
  /** Layer directories, in order; executables in `<layer>/extensions/` are started as external extensions. */
  layers?: string[];
  /** The function's environment variables (extensions get them too). */
  env?: Record<string, string>;
  /** Default 128. Enforced as a real limit where the host allows (see memory-limit.ts and `memoryLimit`). */
  memorySizeMb?: number;
  /**
   * Run the environment's processes in a memory cgroup of memorySizeMb, as
   * Lambda's environment has that much memory: Node.js sizes its heap from it,
   * and going over it ends the invocation with Runtime.OutOfMemory. Default
   * true where the host allows it (root with a cgroup memory controller);
   * false runs without a limit.
   */
  memoryLimit?: boolean;
  /** Function timeout; default 3000. */
  timeoutMs?: number;
  /** Default `sandbox-function`. */
  functionName?: string;
  /** Default `$LATEST`. */
  functionVersion?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Default `123456789012`. */
  accountId?: string;
  /** Reported in the runtime version; the host's architecture runs the code. Default x86_64. */
  architecture?: 'x86_64' | 'arm64';
  /** SHUTDOWN deadline; default 2000 ms with external extensions, else 500 ms. */
  shutdownDeadlineMs?: number;
  /** Limit for the init phase (runtime plus extensions); default 10000 ms, as in Lambda. */
  initTimeoutMs?: number;
  /** Function log format, as Lambda's logging config; sets AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL. */
  logFormat?: 'Text' | 'JSON';
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  /**
   * X-Ray tracing mode (Lambda's TracingConfig): `Active` samples requests that come without a
   * sampling decision, `PassThrough` does not (`Sampled=0`). Default PassThrough. See tracing.ts.
   */
  tracing?: TracingMode;
  /**
   * `none`: no trace header for any request (no _X_AMZN_TRACE_ID, no `tracing` in the INVOKE event or the
   * Telemetry API events), as under AWS's Runtime Interface Emulator. Default `lambda`: as Lambda does.
   */
  traceHeader?: 'lambda' | 'none';
  /**
   * `default`: the extension's receiver keeps its default ports (4318 OTLP/HTTP, 4317 OTLP/gRPC) and neither the
   * function nor the extension is told otherwise (no OBSERVED_RECEIVER_PORT, OBSERVED_RECEIVER_GRPC_PORT or
   * OTEL_EXPORTER_OTLP_ENDPOINT), as in Lambda; environments side by side then need a network namespace each.
   * Default `free`: free ports of this host, passed in those variables.
   */
  receiverPorts?: 'free' | 'default';
  /**
   * `false` answers Telemetry API subscriptions as AWS's Runtime Interface Emulator does (behind `sam local`
   * and locally run container images): 202 with errorType Telemetry.NotSupported, and no events. Default true.
   */
  telemetryApi?: boolean;
  /** Command that starts the runtime instead of the sandbox's own Node.js runtime (e.g. another runtime interface client). */
  runtimeCommand?: string[];
  /**
   * A function of another managed runtime, run through AWS's runtime interface client for it:
   * `{ kind: 'python', python }` (awslambdaric) or `{ kind: 'java', runtimeDir }` (the Java client's jars
   * in runtimeDir/lib). Its bootstrap is started like Lambda's (through AWS_LAMBDA_EXEC_WRAPPER when set),
   * and neither the function nor the extensions can find a node on PATH. Default: the Node.js runtime.
   */
  runtime?: ManagedRuntime;
  /**
   * Node.js executable that runs the function (default: the one running the sandbox). Its directory
   * comes first on PATH, as /var/lang/bin does in Lambda, so the exec wrapper, `#!/usr/bin/env node`
   * extensions and child processes use it too; its version sets AWS_EXECUTION_ENV and the runtime version.
   */
  nodeBinary?: string;
  /**
   * Extensions run with no node findable, whatever the function's runtime (as with a layer for runtimes
   * without Node.js): their PATH has no real node and starts with a trap that records any run of `node`
   * (read with `nodeRunsByExtensions()`). Default false.
   */
  extensionsWithoutNode?: boolean;
  /** Called with every output line of every process (the CLI prints them). */
  onOutput?: (process: string, stream: OutputStream, line: string) => void;
  /** Bound of the event log (oldest entries go first); default 20000 entries, enough for hundreds of invocations. */
  maxLogEntries?: number;
}

/** The options with defaults applied and directories made absolute: what the lifecycle phases read. */
export interface EnvironmentSettings extends LambdaEnvironmentOptions {
  codeDir: string;
  layers: string[];
  functionName: string;
  functionVersion: string;
  functionArn: string;
  region: string;
  accountId: string;
  memorySizeMb: number;
  timeoutMs: number;
  initTimeoutMs: number;
}

export function settingsFrom(options: LambdaEnvironmentOptions): EnvironmentSettings {
  const functionName = options.functionName ?? 'sandbox-function';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  return {
    ...options,
    codeDir: resolve(options.codeDir),
    layers: (options.layers ?? []).map((l) => resolve(l)),
    functionName,
    functionVersion: options.functionVersion ?? '$LATEST',
    functionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    region,
    accountId,
    memorySizeMb: options.memorySizeMb ?? 128,
    timeoutMs: options.timeoutMs ?? 3000,
    initTimeoutMs: options.initTimeoutMs ?? 10_000,
  };
}
