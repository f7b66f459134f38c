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

/**
 * Runtimes the layer for runtimes without Node.js declares, newest first within each language. Lambda
 * takes at most 15; the layer also serves the other current runtimes of these languages (see
 * {@link otherRuntimeReason}), which are given the same layer version without the list.
 */
export function portableLayerRuntimes(): lambda.Runtime[] {
  return [
    lambda.Runtime.PYTHON_3_14,
    lambda.Runtime.PYTHON_3_13,
    lambda.Runtime.PYTHON_3_12,
    lambda.Runtime.PYTHON_3_11,
    lambda.Runtime.JAVA_25,
    lambda.Runtime.JAVA_21,
    lambda.Runtime.JAVA_17,
    lambda.Runtime.JAVA_11,
    lambda.Runtime.DOTNET_10,
    lambda.Runtime.DOTNET_8,
    lambda.Runtime.RUBY_4_0,
    lambda.Runtime.RUBY_3_4,
    lambda.Runtime.RUBY_3_3,
    lambda.Runtime.PROVIDED_AL2023,
    lambda.Runtime.PROVIDED_AL2,
  ];
}

/** Lambda's retired runtimes of languages other than Node.js (Amazon Linux 1, or end of support). */
const RETIRED = new Set([
  'python2.7',
  'python3.6',
  'python3.7',
  'python3.8',
  'python3.9',
  'java8',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'dotnet6',
  'go1.x',
  'ruby2.5',
  'ruby2.7',
  'provided',
]);

/** The languages whose functions get the layer that brings its own engine. */
const OTHER_FAMILIES = new Set([
  lambda.RuntimeFamily.PYTHON,
  lambda.RuntimeFamily.JAVA,
  lambda.RuntimeFamily.DOTNET_CORE,
  lambda.RuntimeFamily.RUBY,
  lambda.RuntimeFamily.OTHER,
]);

/**
 * Why a function of a runtime other than Node.js cannot be observed, or undefined when the layer for
 * runtimes without Node.js serves it (current Python, Java, .NET, Ruby and `provided.al2`/`provided.al2023`).
 */
export function otherRuntimeReason(runtime: lambda.Runtime | undefined): string | undefined {
  if (runtime === undefined)
    return 'its runtime is unknown (a container image function?); container images carry their own extensions';
  if (
    runtime.family === undefined ||
    !OTHER_FAMILIES.has(runtime.family) ||
    !/^(python|java|dotnet|ruby|provided)/.test(runtime.name)
  ) {
    return `its runtime ${runtime.name} is not one observed-lambda serves (Node.js, Python, Java, .NET, Ruby, provided.al2023)`;
  }
  if (RETIRED.has(runtime.name)) return `its runtime ${runtime.name} is retired by Lambda; move to a current one`;
  return undefined;
}
