/**
 * The exec wrapper's preload (NODE_OPTIONS --require): bundled as
 * preload.cjs next to index.cjs (the instrumentation) and esm-entry.mjs.
 */
import { join } from 'node:path';
import { instrumentHandlerFromEnvironment } from './index.js';

try {
  instrumentHandlerFromEnvironment(join(__dirname, 'esm-entry.mjs'));
} catch (error) {
  // Nothing here may stop the runtime from starting.
  process.stderr.write(`observed-lambda instrumentation: not started: ${String(error)}\n`);
}
