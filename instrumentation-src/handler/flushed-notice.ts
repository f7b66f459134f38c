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

/** The notice URL last used, parsed once: it is the same for the life of the process. */
let target: { url: string; connection: LoopbackConnection; head: string } | undefined;

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
  if (target?.url !== url) {
    const found = loopbackTarget(url);
    if (!found) return false;
    target = {
      url,
      connection: loopbackConnection(found.host, found.port),
      head: requestHead(url, { 'Content-Type': 'application/json' }),
    };
  }
  const { connection, head } = target;
  const body = Buffer.from(JSON.stringify(traceFields ? { requestId, ...traceFields } : { requestId }));
  const written = await context.with(suppressTracing(context.active()), () =>
    connection.send(
      `${head}Content-Length: ${body.length}\r\n\r\n`,
      body,
      timeoutMs,
      onAnswer && ((answer) => onAnswer(answer.ok && answer.status >= 200 && answer.status < 300)),
    ),
  );
  return written.ok;
}
