/**
 * Tells the extension that this invocation's telemetry has been flushed
 * (POST /observed/v1/flushed {"requestId"} on its receiver port), so it can
 * export at once instead of waiting for the Telemetry API's runtimeDone event.
 * Best effort: a failure only means the extension falls back to runtimeDone.
 * It also says where the invocation sits in its trace (`traceId`, `spanId` and
 * `parentSpanId` of the platform invoke span, `functionSpanId` of the
 * function's invocation span, `sampled`), so the extension puts its platform
 * spans and the request's log lines in the same trace.
 *
 * It goes over the process's kept-alive loopback connection to the extension
 * (../loopback/connection.ts), right behind the exports of the same flush:
 * the receiver takes pipelined requests one at a time in order, so the data
 * is in before the notice. At the end of an invocation writes are held
 * (./flush.ts), so it is queued and written together with the exports. Only
 * the write is waited for (its bytes in the kernel, which the extension reads
 * even if the environment freezes at once), not the answer.
 */
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type LoopbackConnection, loopbackConnection, loopbackTarget, requestHead } from '../loopback/connection.js';

/** Where the invocation sits in its trace, as the extension is told (lower-case hex ids). */
export interface NoticeTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly functionSpanId: string;
  readonly sampled: boolean;
}

type Target = { url: string; connection: LoopbackConnection; head: string };

/** The notice URLs last used, parsed once: they are the same for the life of the process. */
const targets: { flushed?: Target; started?: Target } = {};

function targetFor(kind: 'flushed' | 'started', url: string): Target | undefined {
  const known = targets[kind];
  if (known?.url === url) return known;
  const found = loopbackTarget(url);
  if (!found) return undefined;
  targets[kind] = {
    url,
    connection: loopbackConnection(found.host, found.port),
    head: requestHead(url, { 'Content-Type': 'application/json' }),
  };
  return targets[kind];
}

async function send(
  target: Target,
  body: Buffer,
  timeoutMs: number,
  onAnswer?: (accepted: boolean) => void,
): Promise<boolean> {
  const written = await context.with(suppressTracing(context.active()), () =>
    target.connection.send(
      `${target.head}Content-Length: ${body.length}\r\n\r\n`,
      body,
      timeoutMs,
      onAnswer && ((answer) => onAnswer(answer.ok && answer.status >= 200 && answer.status < 300)),
    ),
  );
  return written.ok;
}

/**
 * The environment's first invocation also says where it sits in its trace as it starts
 * (POST /observed/v1/started, the same fields), so the extension knows from then on that this
 * function sends notices: its log lines then wait for the notice rather than take Lambda's header at
 * runtimeDone, which can reach the extension first. Later invocations send only the flushed notice.
 */
export function sendStartedNotice(flushedUrl: string, requestId: string, traceFields: NoticeTrace): void {
  const target = targetFor('started', flushedUrl.replace(/\/flushed$/, '/started'));
  if (target) void send(target, Buffer.from(JSON.stringify({ requestId, ...traceFields })), 250);
}

/**
 * Resolves true once the notice is written (while writes are held: queued), false when it could not
 * be (not a loopback URL, no connection, not written within `timeoutMs`). `onAnswer`, when given, learns later whether the
 * extension accepted it (2xx).
 */
export async function sendFlushedNotice(
  url: string,
  requestId: string,
  timeoutMs: number,
  onAnswer?: (accepted: boolean) => void,
  traceFields?: NoticeTrace,
): Promise<boolean> {
  const target = targetFor('flushed', url);
  if (!target) return false;
  const body = Buffer.from(JSON.stringify(traceFields ? { requestId, ...traceFields } : { requestId }));
  return send(target, body, timeoutMs, onAnswer);
}
