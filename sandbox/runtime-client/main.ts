/**
 * The sandbox's Node.js runtime: loads the handler, then loops on the Runtime
 * API (next, run, respond) as Lambda's runtime interface client does. Started
 * as `node <this file>`, through AWS_LAMBDA_EXEC_WRAPPER when one is set.
 */
import { installConsole } from './console.js';
import { RuntimeError, toErrorBody, toLoggedError } from './errors.js';
import { type Handler, loadHandler } from './handler-loader.js';
import { runHandler } from './invoke.js';
import { RuntimeApiClient } from './runtime-api-client.js';

const env = process.env;
const api = new RuntimeApiClient(env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001');
const logger = installConsole(env);
let currentRequestId: string | undefined;

function serialize(result: unknown): string {
  const text = JSON.stringify(result === undefined ? null : result);
  return text === undefined ? 'null' : text;
}

/** Errors outside the handler's promise end the process, after the invocation is answered, as in Lambda. */
function installCrashHandlers(): void {
  const crash = (errorType: string, exitCode: number) => async (reason: unknown) => {
    const error =
      errorType === 'Runtime.UnhandledPromiseRejection' ? new RuntimeError(errorType, String(reason), reason) : reason;
    const body = toErrorBody(error);
    logger.write(
      'ERROR',
      `${errorType === 'Runtime.UnhandledPromiseRejection' ? 'Unhandled Promise Rejection' : 'Uncaught Exception'} \t${JSON.stringify(toLoggedError(error))}`,
    );
    try {
      if (currentRequestId) await api.fail(currentRequestId, body);
      else await api.initError(body);
    } finally {
      process.exit(exitCode);
    }
  };
  process.on('uncaughtException', crash('Runtime.UncaughtException', 129));
  process.on('unhandledRejection', crash('Runtime.UnhandledPromiseRejection', 128));
}

async function main(): Promise<void> {
  installCrashHandlers();
  let handler: Handler;
  try {
    handler = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env._HANDLER ?? '');
  } catch (err) {
    // As aws-lambda-ric: the failed load is an uncaught exception of the init phase, reported, then exit 129.
    const body = toErrorBody(err);
    logger.write('ERROR', `Uncaught Exception \t${JSON.stringify(toLoggedError(err))}`);
    await api.initError(body);
    process.exit(129);
  }
  for (;;) {
    const inv = await api.next();
    currentRequestId = inv.requestId;
    logger.setRequestId(inv.requestId);
    if (inv.traceId) env._X_AMZN_TRACE_ID = inv.traceId;
    else delete env._X_AMZN_TRACE_ID;
    let event: unknown;
    try {
      event = JSON.parse(inv.body);
    } catch {
      event = inv.body;
    }
    const outcome = await runHandler(handler, inv, event, env);
    if (outcome.ok) {
      let body: string;
      try {
        body = serialize(outcome.result);
      } catch (err) {
        await api.fail(
          inv.requestId,
          toErrorBody(new RuntimeError('Runtime.SerializationError', (err as Error).message)),
        );
        continue;
      }
      await api.respond(inv.requestId, body);
    } else {
      const body = toErrorBody(outcome.error);
      logger.write('ERROR', `Invoke Error \t${JSON.stringify(toLoggedError(outcome.error))}`);
      await api.fail(inv.requestId, body);
    }
    currentRequestId = undefined;
  }
}

main().catch((err) => {
  process.stderr.write(`sandbox runtime failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
