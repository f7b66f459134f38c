/**
 * Wraps an ES module handler: in-thread with `module.registerHooks` where Node has it (22.15+: no
 * extra thread, nearly free), the handler's URL then served by a facade module (./esm-facade.ts);
 * elsewhere through the layer's entry module (./esm-entry.ts), without module hooks. With
 * OTEL_LOG_LEVEL at debug (or verbose, all) it says which of the two it took.
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { describeError, warnOnce } from '../log.js';
import { redirectToEntry } from './esm-entry.js';
import { type FacadeTargets, facadeFor } from './esm-hooks.js';
import type { HandlerLocation } from './handler-location.js';
import type { Wrap } from './wrap-export.js';

type SyncLoad = (url: string, context: unknown) => unknown;
interface ModuleWithHooks {
  registerHooks?: (hooks: { load: (url: string, context: unknown, nextLoad: SyncLoad) => unknown }) => unknown;
}

const DEBUG_LEVELS = new Set(['debug', 'verbose', 'all']);

export function hookEsmHandler(
  location: HandlerLocation,
  entryFile: string,
  wrap: Wrap,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const targets: FacadeTargets = { urls: [pathToFileURL(location.file).href], exportPath: location.exportPath };
  const api = nodeModule as unknown as ModuleWithHooks;
  const debug = (how: string) => {
    if (DEBUG_LEVELS.has((env.OTEL_LOG_LEVEL ?? '').toLowerCase())) {
      warnOnce(
        'esm-hooks-debug',
        `debug: ES module handler ${targets.urls[0]} wrapped ${how} (Node.js ${process.version})`,
      );
    }
  };
  try {
    if (typeof api.registerHooks === 'function') {
      api.registerHooks({ load: (url, context, nextLoad) => facadeFor(url, targets) ?? nextLoad(url, context) });
      debug('in-thread through module.registerHooks');
    } else {
      redirectToEntry(location, entryFile, wrap, env);
      debug("through the layer's entry module (_HANDLER), no module hooks");
    }
  } catch (error) {
    warnOnce('esm-hooks', `the ES module handler could not be wrapped: ${describeError(error)}`);
  }
}
