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
 * Runtimes the layer for runtimes without Node.js declares: those on Amazon Linux 2023, whose glibc (2.34)
 * its engine is built for. Runtimes of these languages Lambda adds later get the same layer version
 * without the list (see {@link otherRuntimeReason}).
 */
export function portableLayerRuntimes(): lambda.Runtime[] {
  return [
    lambda.Runtime.PYTHON_3_14,
    lambda.Runtime.PYTHON_3_13,
    lambda.Runtime.PYTHON_3_12,
    lambda.Runtime.JAVA_25,
    lambda.Runtime.JAVA_21,
    lambda.Runtime.DOTNET_10,
    lambda.Runtime.DOTNET_8,
    lambda.Runtime.RUBY_4_0,
    lambda.Runtime.RUBY_3_4,
    lambda.Runtime.RUBY_3_3,
    lambda.Runtime.PROVIDED_AL2023,
  ];
}

/** Amazon Linux 2023's glibc: the newest an engine in the layer may need. */
export const AL2023_GLIBC_MINOR = 34;

/** Current runtimes on Amazon Linux 2, whose glibc (2.26) is older than the layer's engine needs. */
const AMAZON_LINUX_2 = new Set([
  'python3.10',
  'python3.11',
  'java8.al2',
  'java11',
  'java17',
  'ruby3.2',
  'provided.al2',
]);

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
 * runtimes without Node.js serves it (Python, Java, .NET, Ruby and `provided.al2023` on Amazon Linux 2023).
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
  if (AMAZON_LINUX_2.has(runtime.name)) {
    return `its runtime ${runtime.name} runs on Amazon Linux 2, whose glibc (2.26) is older than the engine of observed-lambda's layer needs; move to a runtime on Amazon Linux 2023 (python3.12 or newer, java21 or newer, ruby3.3 or newer, provided.al2023)`;
  }
  return undefined;
}
