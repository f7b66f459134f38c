/**
 * ES module handlers where Node.js has no in-thread module hooks (module.registerHooks came in 22.15;
 * Lambda's nodejs20.x has none). module.register would start a loader thread, about 100 ms at every
 * cold start; instead _HANDLER is pointed at the layer's esm-entry.mjs, which the runtime then loads as
 * the handler module. That file gives the function its own _HANDLER back, imports the function's module
 * by its own URL and exports the handler wrapped, taking what it needs from a process-wide slot set
 * here. Failures look as they do without the wrapper: a failed import is the import's own error, a
 * missing handler Runtime.HandlerNotFound with the function's handler name.
 */
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LambdaHandler } from '../handler/lambda-types.js';
import type { HandlerLocation } from './handler-location.js';
import type { Wrap } from './wrap-export.js';

export const ENTRY_SLOT_KEY = 'observed-lambda.esm-entry';

/** What esm-entry.mjs finds in its slot. */
export interface EsmEntry {
  /** file: URL of the function's module. */
  readonly url: string;
  /** Puts the function's own _HANDLER back, before its module loads. */
  restoreHandlerName(): void;
  /** The handler in the module's namespace, wrapped; throws as the runtime does when there is none. */
  handlerFrom(namespace: Record<string, unknown>): LambdaHandler;
}

export function redirectToEntry(
  location: HandlerLocation,
  entryFile: string,
  wrap: Wrap,
  env: NodeJS.ProcessEnv = process.env,
  argv: string[] = process.argv,
): void {
  const handlerName = env._HANDLER ?? '';
  // aws-lambda-ric's own entry (`aws-lambda-ric <handler>`, as container images start) takes the handler from
  // its first argument, not from _HANDLER: that argument is pointed at the entry module too.
  const argvIndex = argv.length > 2 && argv[2] === handlerName ? 2 : -1;
  const entry: EsmEntry = {
    url: pathToFileURL(location.file).href,
    restoreHandlerName: () => {
      env._HANDLER = handlerName;
      if (argvIndex >= 0) argv[argvIndex] = handlerName;
    },
    handlerFrom: (namespace) => {
      const found = exportAt(namespace, location.exportPath);
      if (typeof found !== 'function') {
        const error = new Error(
          `${handlerName} is ${found === undefined ? 'undefined or not exported' : 'not a function'}`,
        );
        error.name = 'Runtime.HandlerNotFound';
        throw error;
      }
      return wrap(found as LambdaHandler);
    },
  };
  (globalThis as Record<symbol, unknown>)[Symbol.for(ENTRY_SLOT_KEY)] = entry;
  // "<dir>/<module>.<export>": the runtime resolves the directory against the task root, and an
  // absolute one stays as it is.
  env._HANDLER = `${join(dirname(entryFile), basename(entryFile, '.mjs'))}.handler`;
  if (argvIndex >= 0) argv[argvIndex] = env._HANDLER;
}

/** The runtime's lookup: the export path in the namespace; a CommonJS module's exports sit under `default`. */
function exportAt(namespace: Record<string, unknown>, exportPath: readonly string[]): unknown {
  let target: unknown = namespace;
  for (const [index, key] of exportPath.entries()) {
    target = target !== null && typeof target === 'object' ? (target as Record<string, unknown>)[key] : undefined;
    const fallback = namespace.default;
    if (target === undefined && index === 0 && fallback !== null && typeof fallback === 'object') {
      target = (fallback as Record<string, unknown>)[key];
    }
  }
  return target;
}
