// The exec wrapper's entry module for ES module handlers on Node.js without in-thread module hooks
// (module.registerHooks came in 22.15), copied into the layer next to preload.cjs. The preload pointed
// _HANDLER here (see esm-entry.ts): the runtime loads this file as the function's handler module, and it
// gives _HANDLER back, imports the function's own module and exports its handler wrapped.
const entry = globalThis[Symbol.for('observed-lambda.esm-entry')];
if (!entry) {
  throw new Error("observed-lambda: esm-entry.mjs is the exec wrapper's; set _HANDLER to the function's handler");
}
entry.restoreHandlerName();
export const handler = entry.handlerFrom(await import(entry.url));
