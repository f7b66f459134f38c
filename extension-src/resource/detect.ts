/**
 * Detects the Lambda resource attributes of this execution environment
 * (OpenTelemetry semantic conventions: faas.*, cloud.*, service.name).
 *
 * Environment variables give the function's name, version, memory, log
 * stream and region. The account id is not in the environment: it comes from
 * the register response's `accountId` (sent by Lambda when the extension
 * registers with the header `Lambda-Extension-Accept-Feature: accountId`) or,
 * failing that, from the function ARN of the first INVOKE event
 * (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]).
 *
 * Lambda does not give extensions AWS_LAMBDA_LOG_STREAM_NAME (nor the log
 * group), so `faas.instance` is only known where the runtime's environment is
 * read. Series of concurrent environments must not merge, so every
 * environment gets a `service.instance.id` of its own: a random UUID made once
 * per extension process, which lives exactly as long as its execution
 * environment. What the function's SDK set still wins (enrichResource).
 */
import { randomUUID } from 'node:crypto';
import type { KeyValue } from '../otlp/types.js';
import { toAttributes } from './attributes.js';

/** This execution environment's id: one per extension process. */
export const ENVIRONMENT_INSTANCE_ID = randomUUID();

export interface LambdaIdentity {
  /** Overrides the environment's generated `service.instance.id`. */
  instanceId?: string;
  /** From the register response (`accountId`) when the accountId feature was requested. */
  accountId?: string;
  /** `invokedFunctionArn` of an INVOKE event. */
  functionArn?: string;
}

const BYTES_PER_MB = 1024 * 1024;

/** Parts of a Lambda function ARN, or undefined when it is not one. */
export function parseFunctionArn(
  arn: string | undefined,
): { region: string; accountId: string; functionName: string; qualifier?: string; unqualifiedArn: string } | undefined {
  if (!arn) return undefined;
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'lambda' || parts[5] !== 'function') return undefined;
  const [, partition, , region, accountId, , functionName, qualifier] = parts;
  if (!/^\d{12}$/.test(accountId)) return undefined;
  return {
    region,
    accountId,
    functionName,
    qualifier,
    unqualifiedArn: `arn:${partition}:lambda:${region}:${accountId}:function:${functionName}`,
  };
}

/**
 * The ARN, when it names the function the environment describes. Lambda's always does; AWS's Runtime Interface
 * Emulator (sam local, container images run locally) invents one in us-east-1 with account 012345678912
 * whatever AWS_REGION says. The environment wins: an ARN of another region or function name is not used at
 * all (no cloud.resource_id, and no account id from it), so the attributes never contradict each other.
 */
function agreeingArn(
  arn: ReturnType<typeof parseFunctionArn>,
  env: NodeJS.ProcessEnv,
): ReturnType<typeof parseFunctionArn> {
  if (!arn) return undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (region && arn.region !== region) return undefined;
  if (env.AWS_LAMBDA_FUNCTION_NAME && arn.functionName !== env.AWS_LAMBDA_FUNCTION_NAME) return undefined;
  return arn;
}

/** The Lambda resource attributes, as far as they are known now. */
export function detectLambdaResource(env: NodeJS.ProcessEnv = process.env, identity: LambdaIdentity = {}): KeyValue[] {
  const arn = agreeingArn(parseFunctionArn(identity.functionArn), env);
  const functionName = env.AWS_LAMBDA_FUNCTION_NAME || arn?.functionName;
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const accountId = identity.accountId || arn?.accountId;
  return toAttributes({
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_lambda',
    'cloud.region': env.AWS_REGION || env.AWS_DEFAULT_REGION || arn?.region,
    'cloud.account.id': accountId,
    'cloud.resource_id': arn?.unqualifiedArn,
    'faas.name': functionName,
    'faas.version': env.AWS_LAMBDA_FUNCTION_VERSION,
    'faas.instance': env.AWS_LAMBDA_LOG_STREAM_NAME,
    'faas.max_memory': Number.isFinite(memoryMb) && memoryMb > 0 ? memoryMb * BYTES_PER_MB : undefined,
    // The SDK's default service.name is "unknown_service:<process>"; the function name says more.
    'service.name': env.OTEL_SERVICE_NAME || functionName,
    'service.instance.id': identity.instanceId ?? ENVIRONMENT_INSTANCE_ID,
  });
}
