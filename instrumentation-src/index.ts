/**
 * observed-lambda's in-function instrumentation: the OpenTelemetry SDK set up
 * for Lambda and a handler wrapper that traces each invocation and flushes
 * before the response. Used by ObservedFunction's generated entry and by the
 * layer's exec wrapper (/opt/observed-instrument).
 */

/**
 * The OpenTelemetry API this instrumentation uses, for the layer's `@opentelemetry/api` package
 * (nodejs/node_modules): a function that requires the API without bundling it gets this copy, so
 * its spans and metrics reach this SDK.
 */
export * as openTelemetryApi from '@opentelemetry/api';
export type { TelemetryOptions } from './config.js';
export type { LambdaCallback, LambdaContext, LambdaHandler } from './handler/lambda-types.js';
export { wrapHandler } from './handler/wrap.js';
export { instrumentHandlerFromEnvironment } from './loader/from-environment.js';
export { currentTelemetry, startTelemetry, type Telemetry } from './sdk/start.js';
