/** The `context` object handed to the handler, with Lambda's fields and methods. */
import type { NextInvocation } from './runtime-api-client.js';

export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  identity?: unknown;
  clientContext?: unknown;
  getRemainingTimeInMillis(): number;
  done(err?: unknown, result?: unknown): void;
  succeed(result?: unknown): void;
  fail(err?: unknown): void;
}

function parseJsonHeader(value: string | undefined): unknown {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

export function buildContext(
  inv: NextInvocation,
  env: NodeJS.ProcessEnv,
  settle: (err: unknown, result: unknown) => void,
): LambdaContext {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: inv.invokedFunctionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    awsRequestId: inv.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    identity: parseJsonHeader(inv.cognitoIdentity),
    clientContext: parseJsonHeader(inv.clientContext),
    getRemainingTimeInMillis: () => Math.max(0, inv.deadlineMs - Date.now()),
    done: (err, result) => settle(err, result),
    succeed: (result) => settle(null, result),
    fail: (err) => settle(err ?? 'handled', undefined),
  };
}
