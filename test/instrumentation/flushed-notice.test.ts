/**
 * The flushed notice client against real HTTP servers: the body the extension
 * expects, one kept-alive connection for many notices, recovery from refused
 * answers and from connections the server closed while idle, only the write
 * waited for (not the answer), and no hold on the process once written.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sendFlushedNotice } from '../../instrumentation-src/handler/flushed-notice.js';

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

interface Recorder {
  url: string;
  bodies: string[];
  connections: number;
  server: Server;
}

async function serve(
  answer: (req: { url?: string; method?: string }) => { status: number; body?: string } | 'never',
): Promise<Recorder> {
  const recorder = { bodies: [] as string[], connections: 0 } as Recorder;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      recorder.bodies.push(Buffer.concat(chunks).toString('utf8'));
      const a = answer(req);
      if (a === 'never') return;
      res.writeHead(a.status, a.body ? { 'content-type': 'text/plain' } : {}).end(a.body);
    });
  });
  server.on('connection', () => recorder.connections++);
  // Hold idle connections longer than any test waits, so only the client decides when they end.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  recorder.server = server;
  recorder.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/observed/v1/flushed`;
  return recorder;
}

const accept = (req: { url?: string; method?: string }) =>
  req.method === 'POST' && req.url === '/observed/v1/flushed' ? { status: 204 } : { status: 404, body: 'no' };

/** Sends a notice: whether it was written, and the extension's verdict once it answers. */
async function notify(url: string, requestId: string, timeoutMs = 1000) {
  let accepted!: (ok: boolean) => void;
  const answer = new Promise<boolean>((resolve) => (accepted = resolve));
  const written = await sendFlushedNotice(url, requestId, timeoutMs, accepted);
  return { written, answer };
}

describe('flushed notice', () => {
  it('posts {"requestId"} and reuses one connection for every notice', async () => {
    const extension = await serve(accept);
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await notify(extension.url, `req-${i}`));
    expect(sent.map((s) => s.written)).toEqual([true, true, true, true, true]);
    expect(await Promise.all(sent.map((s) => s.answer))).toEqual([true, true, true, true, true]);
    expect(extension.bodies.map((b) => JSON.parse(b))).toEqual([0, 1, 2, 3, 4].map((i) => ({ requestId: `req-${i}` })));
    expect(extension.connections).toBe(1);
  });

  it('reports a refusal to whoever listens for the answer, and the next notice still gets through', async () => {
    let refuse = true;
    const extension = await serve((req) => (refuse ? { status: 404, body: 'not here' } : accept(req)));
    const refused = await notify(extension.url, 'a');
    expect(refused.written).toBe(true);
    expect(await refused.answer).toBe(false);
    refuse = false;
    expect(await (await notify(extension.url, 'b')).answer).toBe(true);
    expect(extension.connections).toBe(1);
  });

  it('recovers when the server closed the idle connection', async () => {
    const extension = await serve(accept);
    expect(await (await notify(extension.url, 'a')).answer).toBe(true);
    // As an extension's server does after its keep-alive timeout.
    extension.server.closeAllConnections();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await (await notify(extension.url, 'b')).answer).toBe(true);
    expect(extension.bodies).toContain(JSON.stringify({ requestId: 'b' }));
  });

  it('resolves once written, without waiting for an answer, and false when nobody listens', async () => {
    let answered = false;
    const silent = await serve(() => 'never');
    const sent = await notify(silent.url, 'a', 200);
    void sent.answer.then(() => (answered = true));
    expect(sent.written).toBe(true);
    // The server has it (and never answers): the write was all that was waited for.
    while (silent.bodies.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(silent.bodies).toEqual([JSON.stringify({ requestId: 'a' })]);
    expect(answered).toBe(false);
    const closedPort = silent.url.replace(/:\d+\//, ':1/');
    expect(await sendFlushedNotice(closedPort, 'b', 1000)).toBe(false);
  });

  it('does not keep the process alive once the notice is written', async () => {
    const extension = await serve(accept);
    // One process (node with the tsx loader), so a kill ends it for sure.
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'notice-then-idle.ts')], {
      env: { PATH: process.env.PATH, NOTICE_URL: extension.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(out.trim()).toBe('true');
    expect(code).toBe(0);
  });
});
