/**
 * The parts of the Lambda programming model the wrapper relies on (the shape of
 * the Node.js runtime's context object and callback), without a dependency on
 * @types/aws-lambda.
 */

export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName?: string;
  readonly functionVersion?: string;
  readonly invokedFunctionArn?: string;
  getRemainingTimeInMillis?(): number;
}

export type LambdaCallback = (error?: unknown, result?: unknown) => void;

// biome-ignore lint/suspicious/noExplicitAny: a handler takes any event and returns anything.
export type LambdaHandler = (event: any, context: any, callback?: any) => any;

/** A plain object, for reading events of unknown shape. */
export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
