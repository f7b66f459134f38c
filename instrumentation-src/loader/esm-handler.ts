/**
 * Installs the facade hooks for an ES module handler: in-thread with
 * `module.registerHooks` where Node has it (22.15+: no extra thread, nearly
 * free), otherwise with `module.register` and the hooks bundle, which starts a
 * loader thread (tens of milliseconds once, at init). With OTEL_LOG_LEVEL at
 * debug (or verbose, all) it says which of the two it took.
 */
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
import { describeError, warnOnce } from '../log.js';
import { type FacadeTargets, facadeFor } from './esm-hooks.js';
import type { HandlerLocation } from './handler-location.js';

type SyncLoad = (url: string, context: unknown) => unknown;
interface ModuleWithHooks {
  registerHooks?: (hooks: { load: (url: string, context: unknown, nextLoad: SyncLoad) => unknown }) => unknown;
  register?: (specifier: string, options: { data: FacadeTargets }) => void;
}

const DEBUG_LEVELS = new Set(['debug', 'verbose', 'all']);

export function hookEsmHandler(
  location: HandlerLocation,
  hooksModuleFile: string,
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
    } else if (typeof api.register === 'function') {
      api.register(pathToFileURL(hooksModuleFile).href, { data: targets });
      debug('through module.register (a loader thread)');
    } else {
      warnOnce('esm-hooks', 'this Node.js has no module hooks; the ES module handler runs without an invocation span.');
    }
  } catch (error) {
    warnOnce('esm-hooks', `the ES module handler could not be wrapped: ${describeError(error)}`);
  }
}
