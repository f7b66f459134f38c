// The exec wrapper's preload for ES module handlers, copied into the layer next to preload.cjs.
// It is given to Node.js with --import, not --require: on Node.js 20 module.register's loader thread
// runs --require preloads again (a second SDK), never --import ones. It loads preload.cjs through
// require because an imported CommonJS file is first parsed for its named exports, and Node.js 22
// then parses every file it requires too (the 280 KB bundle: a few ms of CPU per cold start).
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./preload.cjs');
