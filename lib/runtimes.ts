import * as lambda from 'aws-cdk-lib/aws-lambda';

/** Oldest Node.js major version the extension and the instrumentation run on. */
export const MIN_NODE_MAJOR = 20;

/** The Node.js runtimes the layer declares itself compatible with. */
export function supportedNodeRuntimes(): lambda.Runtime[] {
  return [lambda.Runtime.NODEJS_20_X, lambda.Runtime.NODEJS_22_X, lambda.Runtime.NODEJS_24_X];
}

/** Runtime for new functions: a current Node.js release. */
export function defaultNodeRuntime(): lambda.Runtime {
  return lambda.Runtime.NODEJS_24_X;
}

/** Why a runtime cannot be observed, or undefined when it can. */
export function unsupportedRuntimeReason(runtime: lambda.Runtime | undefined): string | undefined {
  if (runtime === undefined) return 'its runtime is unknown (a container image function?)';
  if (runtime.family !== lambda.RuntimeFamily.NODEJS) {
    return `its runtime ${runtime.name} is not Node.js; observed-lambda instruments Node.js ${MIN_NODE_MAJOR} or newer (nodejs${MIN_NODE_MAJOR}.x and later)`;
  }
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  if (major !== undefined && Number(major) < MIN_NODE_MAJOR) {
    return `its runtime ${runtime.name} is older than nodejs${MIN_NODE_MAJOR}.x; use lambda.Runtime.NODEJS_22_X or newer`;
  }
  return undefined;
}

/** Node.js major version of a runtime (`nodejs22.x` is 22), or undefined for `nodejs` and others. */
export function nodeMajor(runtime: lambda.Runtime): number | undefined {
  const major = /^nodejs(\d+)\.x$/.exec(runtime.name)?.[1];
  return major === undefined ? undefined : Number(major);
}

/** Node.js 24 and later Lambda runtimes refuse callback-style handlers. */
export function acceptsCallbackHandlers(runtime: lambda.Runtime): boolean {
  const major = nodeMajor(runtime);
  return major !== undefined && major < 24;
}
