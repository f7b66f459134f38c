/**
 * What the exec wrapper's preload does before the runtime loads the handler:
 * start the SDK, then arrange for the handler named by _HANDLER to be wrapped
 * when the runtime loads it (a loader hook for CommonJS; for ES modules a
 * facade module, or the layer's entry module where Node.js has no in-thread
 * module hooks). Also takes its own option back out of NODE_OPTIONS, so Node.js
 * processes the function starts do not load the instrumentation again.
 */
import { wrapHandler } from '../handler/wrap.js';
import { warnOnce } from '../log.js';
import { startTelemetry } from '../sdk/start.js';
import { hookCommonJsHandler } from './commonjs-handler.js';
import { WRAP_SLOT_KEY } from './esm-facade.js';
import { hookEsmHandler } from './esm-handler.js';
import { locateHandler } from './handler-location.js';

/** Set by the exec wrapper to the exact option it added to NODE_OPTIONS. */
export const ADDED_OPTION_VARIABLE = 'OBSERVED_INSTRUMENT_NODE_OPTION';

export function instrumentHandlerFromEnvironment(esmEntryFile: string, env: NodeJS.ProcessEnv = process.env): void {
  restoreNodeOptions(env);
  startTelemetry();
  (globalThis as Record<symbol, unknown>)[Symbol.for(WRAP_SLOT_KEY)] = wrapHandler;
  const location = locateHandler(env);
  if (!location) {
    warnOnce(
      'handler',
      `no handler module found for _HANDLER="${env._HANDLER ?? ''}" under ${env.LAMBDA_TASK_ROOT ?? process.cwd()}; invocations are not wrapped.`,
    );
    return;
  }
  if (location.format === 'module') hookEsmHandler(location, esmEntryFile, wrapHandler, env);
  else hookCommonJsHandler(location, wrapHandler);
}

function restoreNodeOptions(env: NodeJS.ProcessEnv): void {
  const added = env[ADDED_OPTION_VARIABLE];
  if (!added) return;
  delete env[ADDED_OPTION_VARIABLE];
  const options = env.NODE_OPTIONS ?? '';
  const index = options.indexOf(added);
  if (index < 0) return;
  const rest = (options.slice(0, index) + options.slice(index + added.length)).trim();
  if (rest) env.NODE_OPTIONS = rest;
  else delete env.NODE_OPTIONS;
}
