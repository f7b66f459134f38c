/**
 * CommonJS handlers: the runtime `require`s the handler's file; a hook on the
 * module loader hands it the exports with the handler wrapped. Only a request
 * that mentions the handler's file name is resolved and compared, so other
 * modules load at full speed.
 */
import Module from 'node:module';
import { basename } from 'node:path';
import type { HandlerLocation } from './handler-location.js';
import { type Wrap, wrapExport } from './wrap-export.js';

type LoadFunction = (request: string, parent: unknown, isMain: boolean) => unknown;
interface ModuleInternals {
  _load: LoadFunction;
  _resolveFilename(request: string, parent: unknown, isMain: boolean): string;
}

const PATCHED = Symbol.for('observed-lambda.commonjs-handler-hook');

export function hookCommonJsHandler(location: HandlerLocation, wrap: Wrap): void {
  const internals = Module as unknown as ModuleInternals & { [PATCHED]?: true };
  if (internals[PATCHED]) return;
  internals[PATCHED] = true;
  const stem = basename(location.file).replace(/\.c?js$/, '');
  const originalLoad = internals._load;
  internals._load = function observedLoad(this: unknown, request: string, parent: unknown, isMain: boolean) {
    const exports = originalLoad.call(this, request, parent, isMain);
    if (typeof request !== 'string' || !request.includes(stem)) return exports;
    let filename: string;
    try {
      filename = internals._resolveFilename(request, parent, isMain);
    } catch {
      return exports;
    }
    return filename === location.file ? wrapExport(exports, location.exportPath, wrap) : exports;
  };
}
