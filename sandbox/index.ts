/**
 * observed-lambda sandbox: a local Lambda execution environment (Runtime API,
 * Extensions API, Telemetry API, freeze/thaw, timeouts, shutdown) for tests,
 * benchmarks, the demo and users' laptops.
 *
 *   const env = await LambdaEnvironment.start({ handler: 'index.handler', codeDir, layers: [layerDir] });
 *   const r = await env.invoke({ hello: 'world' });
 *   const s = await env.shutdown();
 */
export { LambdaEnvironment } from './environment.js';
export type { LambdaEnvironmentOptions } from './environment-options.js';
export { EventLog, type SandboxEvent, type SandboxEventType } from './events-log.js';
export type { ExtensionEvent, InvokeEvent, ShutdownEvent } from './extensions-api.js';
export { LambdaInitError } from './init-phase.js';
export type { InvokeError, InvokeOptions, InvokeResult } from './invoke-phase.js';
export type { JavaRuntime, ManagedRuntime, PythonRuntime } from './managed-runtimes.js';
export { memoryLimitSupport } from './memory-limit.js';
export type { ExtensionShutdown, ShutdownResult } from './shutdown-phase.js';
export { BUFFERING } from './telemetry-api.js';
export type { InvokeStatus, PhaseSpan, TelemetryEvent, TracingContext } from './telemetry-events.js';
export type { TracingMode } from './tracing.js';
