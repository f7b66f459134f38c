/**
 * The HTTP/1.1 server over node:net that the receiver and the Telemetry
 * listener use (on Node.js and on LLRT): framing, keep-alive, strict order of
 * pipelined requests, and every limit, spoken to over raw sockets so each
 * byte on the wire is the test's.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpServer, type RequestHead } from '../../../extension-src/io/http-server.js';
import { httpRequest } from '../../support/http.js';

interface Seen {
  head: RequestHead;
  body: string;
}

/** Writes `wire` on a fresh connection and collects what comes back until `answers` responses or the close. */
function exchange(
  port: number,
  wire: string | Buffer | (string | Buffer)[],
  options: { answers?: number; end?: boolean } = {},
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ text, closed });
    };
    socket.on('connect', () => {
      for (const piece of Array.isArray(wire) ? wire : [wire]) socket.write(piece);
      if (options.end) socket.end();
    });
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (options.answers !== undefined && statuses(text).length >= options.answers && completeBodies(text)) {
        finish(false);
      }
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (error) => (done ? undefined : reject(error)));
  });
}

/** The answers in `text`, read one after another by their content-length (the last may be incomplete). */
function answers(text: string): { status: number; complete: boolean }[] {
  const found: { status: number; complete: boolean }[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text.slice(at, at + 12))?.[1]);
    if (end < 0) {
      found.push({ status, complete: false });
      break;
    }
    const length = Number(/content-length: (\d+)/i.exec(text.slice(at, end))?.[1] ?? 0);
    found.push({ status, complete: text.length >= end + 4 + length });
    at = end + 4 + length;
  }
  return found;
}

function statuses(text: string): number[] {
  return answers(text).map((a) => a.status);
}

function completeBodies(text: string): boolean {
  return answers(text).every((a) => a.complete);
}

function post(path: string, body: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ host: 'x', 'content-length': String(Buffer.byteLength(body)), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `POST ${path} HTTP/1.1\r\n${lines}\r\n${body}`;
}

describe('HttpServer', () => {
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  /** Handler delays by path, to show that answers keep the request order. */
  const delays: Record<string, number> = { '/slow': 60 };
  const server = new HttpServer({
    maxHeaderBytes: 1024,
    discardMaxBytes: 64 * 1024,
    requestTimeoutMs: 300,
    onError: (error) => errors.push(error),
    route: (head) => {
      if (head.path === '/refused') return { reply: { status: 415, body: Buffer.from('no thanks') } };
      return {
        maxBodyBytes: 1000,
        tooLarge: (limit, declared) => ({
          status: 413,
          body: Buffer.from(`limit ${limit} declared ${declared ?? '?'}`),
        }),
        handle: async (body) => {
          if (head.path === '/throw') throw new Error('handler failed');
          const delay = delays[head.path];
          if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
          seen.push({ head, body: body.toString() });
          return { status: 200, headers: { 'x-path': head.path }, body: Buffer.from(`got ${body.length}`) };
        },
      };
    },
  });
  let port = 0;

  beforeAll(async () => {
    port = await server.listen(0, '127.0.0.1');
  });
  afterAll(() => server.close());

  it('takes a Content-Length body and a chunked body with extensions and trailers', async () => {
    seen.length = 0;
    const answer = await httpRequest(`http://127.0.0.1:${port}/a?x=1`, { body: 'hello' });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('got 5');
    expect(answer.headers['x-path']).toBe('/a');
    const chunked =
      'POST /b HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n' +
      '3;ext=1\r\nabc\r\n' +
      'A\r\n0123456789\r\n' +
      '0\r\ntrailer-field: yes\r\n\r\n';
    const { text } = await exchange(port, chunked, { answers: 1 });
    expect(statuses(text)).toEqual([200]);
    expect(seen.map((s) => [s.head.method, s.head.target, s.head.path, s.body])).toEqual([
      ['POST', '/a?x=1', '/a', 'hello'],
      ['POST', '/b', '/b', 'abc0123456789'],
    ]);
  });

  it('reads a request split into single bytes', async () => {
    seen.length = 0;
    const wire = Buffer.from(post('/split', 'body!'));
    const { text } = await exchange(
      port,
      [...wire].map((b) => Buffer.from([b])),
      { answers: 1 },
    );
    expect(statuses(text)).toEqual([200]);
    expect(seen[0].body).toBe('body!');
  });

  it('answers pipelined requests in their order, each taken after the one before is answered', async () => {
    seen.length = 0;
    const { text } = await exchange(port, post('/slow', 'first') + post('/fast', 'second') + post('/fast', 'third'), {
      answers: 3,
    });
    expect(statuses(text)).toEqual([200, 200, 200]);
    expect([...text.matchAll(/x-path: (\S+)/g)].map((m) => m[1])).toEqual(['/slow', '/fast', '/fast']);
    expect(seen.map((s) => s.body)).toEqual(['first', 'second', 'third']);
  });

  it('refuses an announced oversized body with 413 and keeps the connection for the next request', async () => {
    const big = 'x'.repeat(5000);
    const { text, closed } = await exchange(port, post('/a', big) + post('/a', 'after'), { answers: 2 });
    expect(statuses(text)).toEqual([413, 200]);
    expect(text).toContain('limit 1000 declared 5000');
    expect(closed).toBe(false);
  });

  it('refuses a chunked body that grows past the limit with 413, and reads the next request', async () => {
    const chunk = `${(600).toString(16)}\r\n${'y'.repeat(600)}\r\n`;
    const wire = `POST /a HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n${post('/a', 'ok')}`;
    const { text } = await exchange(port, wire, { answers: 2 });
    expect(statuses(text)).toEqual([413, 200]);
    expect(text).toContain('limit 1000 declared ?');
  });

  it('answers a refusing route at once, drops the body and goes on', async () => {
    const { text } = await exchange(port, post('/refused', 'z'.repeat(2000)) + post('/a', 'next'), { answers: 2 });
    expect(statuses(text)).toEqual([415, 200]);
  });

  it('closes after answering a body too large even to drop', async () => {
    const wire = `POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: ${1024 * 1024}\r\n\r\n`;
    const { text, closed } = await exchange(port, wire);
    expect(statuses(text)).toEqual([413]);
    expect(text).toContain('connection: close');
    expect(closed).toBe(true);
  });

  it('answers 431 to a head over the limit and closes', async () => {
    const { text, closed } = await exchange(port, `GET / HTTP/1.1\r\nx-big: ${'a'.repeat(2000)}\r\n\r\n`);
    expect(statuses(text)).toEqual([431]);
    expect(closed).toBe(true);
  });

  it.each([
    ['a malformed request line', 'GET /\r\n\r\n', 400],
    ['an unknown HTTP version', 'GET / HTTP/2.0\r\n\r\n', 400],
    ['a bare LF inside the head', 'GET / HTTP/1.1\r\nhost: x\nx-y: z\r\n\r\n', 400],
    ['obsolete line folding', 'GET / HTTP/1.1\r\nx-a: b\r\n  folded\r\n\r\n', 400],
    ['a header name with a space', 'GET / HTTP/1.1\r\nbad name: v\r\n\r\n', 400],
    [
      'Content-Length and Transfer-Encoding together',
      'POST / HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n',
      400,
    ],
    ['two different Content-Lengths', 'POST / HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd', 400],
    ['a negative Content-Length', 'POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n', 400],
    ['a transfer coding other than chunked', 'POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n', 501],
    ['a malformed chunk size', 'POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', 400],
    [
      'chunk data longer than its size',
      'POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
      400,
    ],
  ])('answers %s with %i and closes the connection', async (_name, wire, status) => {
    const { text, closed } = await exchange(port, wire);
    expect(statuses(text)).toEqual([status]);
    expect(closed).toBe(true);
    // The server goes on serving other connections.
    expect((await httpRequest(`http://127.0.0.1:${port}/a`, { body: 'x' })).status).toBe(200);
  });

  it('accepts repeated identical Content-Lengths', async () => {
    const { text } = await exchange(port, 'POST /a HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nab', {
      answers: 1,
    });
    expect(statuses(text)).toEqual([200]);
  });

  it('answers 408 to a request that stops half-way, and never times out an idle connection', async () => {
    const started = Date.now();
    const { text, closed } = await exchange(port, 'POST /a HTTP/1.1\r\ncontent-length: 10\r\n\r\nabc');
    expect(statuses(text)).toEqual([408]);
    expect(closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // An idle keep-alive connection outlives the request timeout and still serves.
    const idle = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (c) => {
        text += c.toString();
        if (/got 4$/.test(text)) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      setTimeout(() => socket.write(post('/a', 'late')), 500);
    });
    expect(statuses(idle)).toEqual([200]);
  });

  it('answers 500 when the handler throws, and keeps serving', async () => {
    const { text } = await exchange(port, post('/throw', '') + post('/a', 'x'), { answers: 2 });
    expect(statuses(text)).toEqual([500, 200]);
    expect(String(errors.at(-1))).toContain('handler failed');
  });

  it('sends 100 Continue when asked, then the answer', async () => {
    const { text } = await exchange(port, post('/a', 'abc', { expect: '100-continue' }), { answers: 2 });
    expect(statuses(text)).toEqual([100, 200]);
  });

  it('closes after the answer for Connection: close and for HTTP/1.0 without keep-alive', async () => {
    const close = await exchange(port, post('/a', 'x', { connection: 'close' }));
    expect(statuses(close.text)).toEqual([200]);
    expect(close.closed).toBe(true);
    const old = await exchange(port, 'POST /a HTTP/1.0\r\ncontent-length: 1\r\n\r\nx');
    expect(statuses(old.text)).toEqual([200]);
    expect(old.closed).toBe(true);
  });

  it('answers a client that half-closes after writing', async () => {
    const { text, closed } = await exchange(port, post('/slow', 'a') + post('/a', 'b'), { end: true });
    expect(statuses(text)).toEqual([200, 200]);
    expect(closed).toBe(true);
  });

  it('refuses to send a header value that would break the framing', async () => {
    const broken = new HttpServer({
      route: () => ({ reply: { status: 200, headers: { 'x-bad': 'a\r\ninjected: 1' } } }),
      onError: () => {},
    });
    const brokenPort = await broken.listen(0, '127.0.0.1');
    const { text } = await exchange(brokenPort, 'GET / HTTP/1.1\r\n\r\n', { answers: 1 });
    expect(statuses(text)).toEqual([500]);
    expect(text).not.toContain('injected');
    await broken.close();
  });

  it('rejects listening on a taken port with its error code', async () => {
    const other = new HttpServer({ route: () => ({ reply: { status: 204 } }) });
    await expect(other.listen(port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
