/**
 * observed-lambda's in-function instrumentation: the OpenTelemetry SDK set up
 * for Lambda and a handler wrapper that traces each invocation and flushes
 * before the response. Used by ObservedFunction's generated entry and by the
 * layer's exec wrapper (/opt/observed-instrument).
 */
export type { TelemetryOptions } from './config.js';
export type { LambdaCallback, LambdaContext, LambdaHandler } from './handler/lambda-types.js';
export { wrapHandler } from './handler/wrap.js';
export { instrumentHandlerFromEnvironment } from './loader/from-environment.js';
export { currentTelemetry, startTelemetry, type Telemetry } from './sdk/start.js';
