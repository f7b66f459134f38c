/**
 * Installs the facade hooks for an ES module handler: in-thread with
 * `module.registerHooks` where Node has it (22.15+: no extra thread, nearly
 * free), otherwise with `module.register` and the hooks bundle, which starts a
 * loader thread (tens of milliseconds once, at init).
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

export function hookEsmHandler(location: HandlerLocation, hooksModuleFile: string): void {
  const targets: FacadeTargets = { urls: [pathToFileURL(location.file).href], exportPath: location.exportPath };
  const api = nodeModule as unknown as ModuleWithHooks;
  try {
    if (typeof api.registerHooks === 'function') {
      api.registerHooks({ load: (url, context, nextLoad) => facadeFor(url, targets) ?? nextLoad(url, context) });
    } else if (typeof api.register === 'function') {
      api.register(pathToFileURL(hooksModuleFile).href, { data: targets });
    } else {
      warnOnce('esm-hooks', 'this Node.js has no module hooks; the ES module handler runs without an invocation span.');
    }
  } catch (error) {
    warnOnce('esm-hooks', `the ES module handler could not be wrapped: ${describeError(error)}`);
  }
}
