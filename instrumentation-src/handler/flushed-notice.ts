/**
 * Tells the extension that this invocation's telemetry has been flushed
 * (POST /observed/v1/flushed {"requestId"} on its receiver port), so it can
 * export at once instead of waiting for the Telemetry API's runtimeDone event.
 * Best effort: a failure only means the extension falls back to runtimeDone.
 *
 * It runs on every invocation, so it skips node:http's client machinery (a
 * few hundred microseconds of CPU a request) and speaks the one request it
 * needs over a kept-alive loopback socket: a 2xx status line ends it. Any
 * other answer, or anything unexpected on the socket, closes the socket; the
 * next notice opens a new one. A kept socket found closed (the server may
 * have timed it out) is replaced once within the same notice.
 */
import { connect, type Socket } from 'node:net';

interface Target {
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

let socket: Socket | undefined;
let socketKey = '';

export function sendFlushedNotice(url: string, requestId: string, timeoutMs: number): Promise<boolean> {
  let target: Target;
  try {
    const parsed = new URL(url);
    target = { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port) || 80, path: parsed.pathname };
  } catch {
    return Promise.resolve(false);
  }
  const body = JSON.stringify({ requestId });
  const request =
    `POST ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const deadline = Date.now() + Math.max(1, Math.floor(timeoutMs));
  return exchange(target, request, deadline).then((answer) =>
    answer === 'stale' ? exchange(target, request, deadline).then((retry) => retry === 'ok') : answer === 'ok',
  );
}

type Answer = 'ok' | 'refused' | 'stale';

function exchange(target: Target, request: string, deadline: number): Promise<Answer> {
  const key = `${target.host}:${target.port}`;
  const reused = socket !== undefined && socketKey === key && !socket.destroyed;
  if (!reused) {
    socket?.destroy();
    const fresh = connect(target.port, target.host);
    fresh.setNoDelay(true);
    // Errors of an idle socket (a reset while nobody waits on it) must not become uncaught.
    fresh.on('error', () => {});
    fresh.on('close', () => {
      if (socket === fresh) socket = undefined;
    });
    socket = fresh;
    socketKey = key;
  }
  const current = socket!;
  return new Promise<Answer>((resolve) => {
    let head = '';
    let settled = false;
    const finish = (answer: Answer, keep: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      current.off('data', onData);
      current.off('error', onGone);
      current.off('close', onGone);
      if (keep) {
        // An idle kept socket must not keep the process alive.
        current.unref();
      } else {
        current.destroy();
        if (socket === current) socket = undefined;
      }
      resolve(answer);
    };
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) finish('refused', false);
        return;
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
      const lines = head.slice(0, end).toLowerCase();
      // Only an answer without a body leaves the socket ready for the next request.
      const empty = status === 204 || /\r\ncontent-length:\s*0\r?(\n|$)/.test(`${lines}\r\n`);
      const reusable = empty && end + 4 === head.length && !/\r\nconnection:\s*close/.test(lines);
      finish(status >= 200 && status < 300 ? 'ok' : 'refused', reusable);
    };
    // A reused socket that fails before any answer was probably closed by the server while idle.
    const onGone = () => finish(reused && head === '' ? 'stale' : 'refused', false);
    const timer = setTimeout(() => finish('refused', false), Math.max(1, deadline - Date.now()));
    current.ref();
    current.on('data', onData);
    current.on('error', onGone);
    current.on('close', onGone);
    current.write(request);
  });
}
