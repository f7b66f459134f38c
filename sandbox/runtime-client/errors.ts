/** Errors as the Node.js Lambda runtime reports them: `{ errorType, errorMessage, trace }`. */
import type { ErrorBody } from './runtime-api-client.js';

/** An error raised by the runtime itself, with a Lambda error type such as Runtime.HandlerNotFound. */
export class RuntimeError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = errorType;
  }
}

export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof RuntimeError) {
    return { errorType: err.errorType, errorMessage: err.message, trace: stackLines(err.cause ?? err) };
  }
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: stackLines(err) };
  }
  if (typeof err === 'string') return { errorType: 'string', errorMessage: err, trace: [] };
  let message: string;
  try {
    message = JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: message ?? String(err), trace: [] };
}

function stackLines(err: unknown): string[] {
  const stack = err instanceof Error ? err.stack : undefined;
  return stack ? stack.split('\n') : [];
}

/**
 * An error as the runtime's ERROR log lines show it (`Invoke Error`, `Uncaught Exception`): like aws-lambda-ric,
 * errorType, errorMessage, code, the error's own enumerable properties, and `stack` as lines. The Runtime API
 * body (toErrorBody) names the lines `trace` instead.
 */
export function toLoggedError(err: unknown): Record<string, unknown> {
  const cause = err instanceof RuntimeError && err.cause instanceof Error ? err.cause : err;
  const error = cause instanceof Error ? cause : new Error(String(cause));
  const logged: Record<string, unknown> = {
    errorType: err instanceof RuntimeError ? err.errorType : error.name,
    errorMessage: error.message,
    code: (error as { code?: unknown }).code,
    ...error,
  };
  if (typeof error.stack === 'string') logged.stack = error.stack.split('\n');
  return logged;
}
