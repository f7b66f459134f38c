/**
 * The module load hook that serves the facade for the handler's URL, run in-thread through
 * `module.registerHooks` (./esm-handler.ts).
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

/** The facade for a target URL; undefined for any other module. */
export function facadeFor(url: string, targets: FacadeTargets): LoadResult | undefined {
  if (!targets.urls.includes(url)) return undefined;
  return { format: 'module', source: facadeSource(url, targets.exportPath), shortCircuit: true };
}
