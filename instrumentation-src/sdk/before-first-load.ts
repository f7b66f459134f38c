/**
 * Runs a callback just before the first module matching a test is loaded,
 * through CommonJS's loader (which also loads the CommonJS packages an ES
 * module imports). Lets an instrumentation start only when the library it
 * instruments is about to be used, instead of at every cold start.
 */
import Module from 'node:module';

type LoadFunction = (request: string, parent: unknown, isMain: boolean) => unknown;
interface Pending {
  matches: (request: string) => boolean;
  run: () => void;
}

const pending: Pending[] = [];
let installed = false;

export function beforeFirstLoad(matches: (request: string) => boolean, run: () => void): void {
  pending.push({ matches, run });
  if (installed) return;
  installed = true;
  const internals = Module as unknown as { _load: LoadFunction };
  const originalLoad = internals._load;
  internals._load = function observedFirstLoad(this: unknown, request: string, parent: unknown, isMain: boolean) {
    if (pending.length > 0 && typeof request === 'string') {
      for (let i = pending.length - 1; i >= 0; i--) {
        if (!pending[i].matches(request)) continue;
        const [entry] = pending.splice(i, 1);
        entry.run();
      }
    }
    return originalLoad.call(this, request, parent, isMain);
  };
}
