/**
 * Tells the extension that this invocation's telemetry has been flushed
 * (POST /observed/v1/flushed {"requestId"} on its receiver port), so it can
 * export at once instead of waiting for the Telemetry API's runtimeDone event.
 * Best effort: a failure only means the extension falls back to runtimeDone.
 */
import { Agent, request } from 'node:http';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';

// One kept-alive loopback connection serves every invocation of the environment.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export function sendFlushedNotice(url: string, requestId: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ requestId });
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(
      () => {
        finish(false);
        req.destroy();
      },
      Math.max(1, Math.floor(timeoutMs)),
    );
    // The notice is the instrumentation's own traffic: no client span for it.
    const req = context.with(suppressTracing(context.active()), () =>
      request(url, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }),
    );
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode !== undefined && res.statusCode < 300));
      res.on('error', () => finish(false));
    });
    req.on('error', () => finish(false));
    req.end(body);
  });
}
