/**
 * Runs the handler for one event with Lambda's Node.js semantics: a returned
 * promise settles the invocation; otherwise the callback (or context.done)
 * does, and with callbackWaitsForEmptyEventLoop the response waits until the
 * event loop is empty; a handler that neither returns a promise nor calls back
 * answers null once the event loop is empty.
 */
import { buildContext } from './context.js';
import type { Handler } from './handler-loader.js';
import type { NextInvocation } from './runtime-api-client.js';

export type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

export function runHandler(
  handler: Handler,
  inv: NextInvocation,
  event: unknown,
  env: NodeJS.ProcessEnv,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome, waitForEmptyLoop: boolean) => {
      if (settled) return;
      settled = true;
      if (waitForEmptyLoop) process.once('beforeExit', () => resolve(outcome));
      else resolve(outcome);
    };
    const fromCallback = (err: unknown, result: unknown) =>
      settle(
        err !== null && err !== undefined ? { ok: false, error: err } : { ok: true, result },
        context.callbackWaitsForEmptyEventLoop,
      );
    const context = buildContext(inv, env, fromCallback);
    try {
      const returned = handler(event, context, fromCallback);
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(
          (result) => settle({ ok: true, result }, false),
          (error) => settle({ ok: false, error }, false),
        );
      } else if (handler.length < 3) {
        // Neither a promise nor a callback: Lambda answers once the event loop is empty.
        process.once('beforeExit', () => settle({ ok: true, result: null }, false));
      }
    } catch (error) {
      settle({ ok: false, error }, false);
    }
  });
}
