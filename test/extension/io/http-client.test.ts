/**
 * The HTTP/1.1 client over node:net (the Extensions and Telemetry APIs and
 * plain backends on Node.js and LLRT): against node:http servers and raw
 * sockets that answer in every framing, keep-alive reuse, timeouts and the
 * errors a caller branches on.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../extension-src/io/http-client.js';

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

/** A server that answers every request with `answer` written raw (after reading the head). */
async function rawServer(answer: (request: string, socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    let text = '';
    socket.on('data', (c) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (text.length < end + 4 + length) return;
      const request = text.slice(0, end + 4 + length);
      text = text.slice(end + 4 + length);
      answer(request, socket);
    });
    socket.on('error', () => {});
  });
  return { port: await listen(server), server };
}

describe('HttpClient', () => {
  const client = new HttpClient(4);
  const connections: Socket[] = [];
  const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part one, ');
        setTimeout(() => res.end('part two'), 10);
      } else if (req.url === '/no-content') {
        res.writeHead(204).end();
      } else if (req.url === '/close') {
        res.writeHead(200, { connection: 'close' }).end('bye');
      } else if (req.url === '/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 500);
      } else if (req.url === '/big') {
        res.writeHead(200).end(Buffer.alloc(100_000, 97));
      } else {
        res.writeHead(200, { 'x-echo': req.headers['x-test'] ?? '' }).end(`echo ${Buffer.concat(chunks).length}`);
      }
    });
  });
  server.on('connection', (socket) => connections.push(socket));
  let base = '';

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterEach(() => {
    seen.length = 0;
  });
  afterAll(async () => {
    client.closeIdle();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, path and query, headers and body, and reads a Content-Length answer', async () => {
    const res = await client.send({
      method: 'PUT',
      url: new URL(`${base}/path?q=1`),
      headers: { 'x-test': 'yes', 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-echo']).toBe('yes');
    expect(res.body.toString()).toBe('echo 7');
    expect(seen[0]).toMatchObject({ method: 'PUT', url: '/path?q=1', body: '{"a":1}' });
    expect(seen[0].headers['content-length']).toBe('7');
  });

  it('reads chunked answers and answers without a body', async () => {
    expect((await client.send({ method: 'GET', url: new URL(`${base}/chunked`), headers: {} })).body.toString()).toBe(
      'part one, part two',
    );
    const empty = await client.send({ method: 'POST', url: new URL(`${base}/no-content`), headers: {} });
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
  });

  it('reuses a kept-alive socket and says so, and does not reuse one the server closes', async () => {
    const fresh = new HttpClient(4);
    const before = connections.length;
    const first = await fresh.exchange({ method: 'GET', url: new URL(`${base}/a`), headers: {} });
    const second = await fresh.exchange({ method: 'GET', url: new URL(`${base}/a`), headers: {} });
    expect([first.reusedSocket, second.reusedSocket]).toEqual([false, true]);
    expect(connections.length).toBe(before + 1);
    await fresh.exchange({ method: 'GET', url: new URL(`${base}/close`), headers: {} });
    const after = await fresh.exchange({ method: 'GET', url: new URL(`${base}/a`), headers: {} });
    expect(after.reusedSocket).toBe(false);
    expect(after.response?.status).toBe(200);
    fresh.closeIdle();
  });

  it('drops an idle socket the server closed, so the next request goes out on a fresh one', async () => {
    const fresh = new HttpClient(4);
    await fresh.send({ method: 'GET', url: new URL(`${base}/a`), headers: {} });
    connections.at(-1)?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await fresh.exchange({ method: 'GET', url: new URL(`${base}/a`), headers: {} });
    expect(next.response?.status).toBe(200);
    expect(next.reusedSocket).toBe(false);
    fresh.closeIdle();
  });

  it('keeps the first maxResponseBytes of a body and reads the rest off the socket', async () => {
    const fresh = new HttpClient(4);
    const res = await fresh.send({ method: 'GET', url: new URL(`${base}/big`), headers: {}, maxResponseBytes: 1000 });
    expect(res.body.length).toBe(1000);
    const next = await fresh.exchange({ method: 'GET', url: new URL(`${base}/a`), headers: {} });
    expect(next.reusedSocket).toBe(true);
    expect(next.response?.body.toString()).toBe('echo 0');
    fresh.closeIdle();
  });

  it('gives up at the time limit with ETIMEDOUT', async () => {
    const outcome = await client.exchange({ method: 'GET', url: new URL(`${base}/slow`), headers: {}, timeoutMs: 100 });
    expect(outcome.error?.code).toBe('ETIMEDOUT');
    expect(outcome.error?.message).toContain('100 ms');
  });

  it('reports a refused connection with ECONNREFUSED', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await client.exchange({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), headers: {} });
    expect(outcome.error?.code).toBe('ECONNREFUSED');
    await expect(
      client.send({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), headers: {} }),
    ).rejects.toThrow();
  });

  it('reads an answer delimited by the close, skips 100 Continue, and refuses a malformed status line', async () => {
    const { port, server: raw } = await rawServer((request, socket) => {
      if (request.startsWith('GET /until-close')) {
        socket.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nall of the rest');
      } else {
        socket.end('HTTP/9 what\r\n\r\n');
      }
    });
    const res = await client.send({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/until-close`), headers: {} });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('all of the rest');
    const bad = await client.exchange({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/bad`), headers: {} });
    expect(bad.error?.code).toBe('EPROTO');
    expect(bad.error?.message).toContain('malformed status line');
    await new Promise((resolve) => raw.close(resolve));
  });

  it('reports an answer cut short by the close as ECONNRESET', async () => {
    const { port, server: raw } = await rawServer((_request, socket) =>
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort'),
    );
    const outcome = await client.exchange({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/`), headers: {} });
    expect(outcome.error?.code).toBe('ECONNRESET');
    await new Promise((resolve) => raw.close(resolve));
  });

  it('refuses to send a header that would break the framing', async () => {
    const outcome = await client.exchange({
      method: 'GET',
      url: new URL(`${base}/a`),
      headers: { 'x-a': 'b\r\nx-injected: 1' },
    });
    expect(outcome.error?.message).toContain('cannot be sent');
    expect(seen).toEqual([]);
  });

  it('sends https: through fetch and reports its network errors', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await client.exchange({
      method: 'POST',
      url: new URL(`https://127.0.0.1:${port}/`),
      headers: {},
      body: Buffer.from('x'),
      timeoutMs: 2000,
    });
    expect(outcome.response).toBeUndefined();
    expect(outcome.error?.code).toBe('ECONNREFUSED');
  });
});
