/**
 * The exec wrapper's preload (NODE_OPTIONS --require or --import): bundled as
 * preload.cjs next to index.cjs (the instrumentation) and esm-hooks.mjs.
 */
import { join } from 'node:path';
import { instrumentHandlerFromEnvironment } from './index.js';

try {
  instrumentHandlerFromEnvironment(join(__dirname, 'esm-hooks.mjs'));
} catch (error) {
  // Nothing here may stop the runtime from starting.
  process.stderr.write(`observed-lambda instrumentation: not started: ${String(error)}\n`);
}
