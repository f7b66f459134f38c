/**
 * The esbuild options of the programs this package ships as one executable
 * file for Node.js (the extension in the layer, the `observed-lambda`
 * command): what they share stays the same for both.
 */
import type { BuildOptions } from 'esbuild';

export const NODE_EXECUTABLE: BuildOptions = {
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  banner: { js: '#!/usr/bin/env node' },
  legalComments: 'none',
  logLevel: 'warning',
};
