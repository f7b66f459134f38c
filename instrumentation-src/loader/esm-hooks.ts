/**
 * Module customization hooks that serve the facade for the handler's URL.
 * Bundled on its own as esm-hooks.mjs for `module.register` (the hooks run on
 * a loader thread and get the handler's URLs through `initialize`); the same
 * `load` runs in-thread through `module.registerHooks` where Node has it.
 */
import { facadeSource } from './esm-facade.js';

export interface FacadeTargets {
  /** file: URLs of the handler module, as the loader sees them. */
  readonly urls: readonly string[];
  readonly exportPath: readonly string[];
}

interface LoadResult {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}
type NextLoad<R> = (url: string, context?: unknown) => R;

let targets: FacadeTargets = { urls: [], exportPath: [] };

export function initialize(data: FacadeTargets): void {
  targets = data;
}

/** The facade for a target URL; undefined for any other module. */
export function facadeFor(url: string, current: FacadeTargets = targets): LoadResult | undefined {
  if (!current.urls.includes(url)) return undefined;
  return { format: 'module', source: facadeSource(url, current.exportPath), shortCircuit: true };
}

export async function load(
  url: string,
  context: unknown,
  nextLoad: NextLoad<Promise<LoadResult>>,
): Promise<LoadResult> {
  return facadeFor(url) ?? nextLoad(url, context);
}
