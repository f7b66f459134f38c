/**
 * Replaces the handler inside a loaded CommonJS module's exports with its
 * wrapped version. Exports are usually plain writable properties; bundlers
 * (esbuild's CommonJS output) define them as getters that cannot be
 * redefined, and then the runtime is handed a view of the exports whose
 * handler is the wrapped one.
 */
import type { LambdaHandler } from '../handler/lambda-types.js';

export type Wrap = (handler: LambdaHandler) => LambdaHandler;

export function wrapExport(exports: unknown, exportPath: readonly string[], wrap: Wrap): unknown {
  if (exportPath.length === 0 || exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) {
    return exports;
  }
  const container = exports as Record<string, unknown>;
  if (exportPath.length > 1) {
    // A nested handler (`index.api.handler`): its holder is an ordinary object that can be changed in place.
    let holder: unknown = container;
    for (const key of exportPath.slice(0, -1)) holder = (holder as Record<string, unknown> | undefined)?.[key];
    replaceInPlace(holder, exportPath[exportPath.length - 1], wrap);
    return exports;
  }
  const name = exportPath[0];
  const original = container[name];
  if (typeof original !== 'function') return exports;
  const wrapped = wrap(original as LambdaHandler);
  if (wrapped === original || replaceInPlace(container, name, () => wrapped)) return exports;
  const descriptor = Object.getOwnPropertyDescriptor(container, name);
  if (descriptor && !('value' in descriptor)) {
    // A getter: a proxy may answer differently for it and keeps every other binding live.
    return new Proxy(container, {
      get: (target, key, receiver) => (key === name ? wrapped : Reflect.get(target, key, receiver)),
    });
  }
  return { ...container, [name]: wrapped };
}

function replaceInPlace(holder: unknown, key: string, wrap: Wrap): boolean {
  if (holder === null || (typeof holder !== 'object' && typeof holder !== 'function')) return false;
  const target = holder as Record<string, unknown>;
  const original = target[key];
  if (typeof original !== 'function') return false;
  const wrapped = wrap(original as LambdaHandler);
  try {
    target[key] = wrapped;
  } catch {
    // Read-only in strict mode: try defining it instead.
  }
  if (target[key] !== wrapped) {
    try {
      Object.defineProperty(target, key, { value: wrapped, writable: true, enumerable: true, configurable: true });
    } catch {
      return false;
    }
  }
  return target[key] === wrapped;
}
