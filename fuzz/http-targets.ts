/**
 * Fuzz targets for the HTTP/1.1 server and client of extension-src/io/ (the
 * engine-neutral I/O that faces the function's bytes on loopback and the
 * answers of backends):
 *
 * - http-server: raw byte streams (valid OTLP POSTs, chunked bodies,
 *   pipelines, the flushed notice, mutated) written in pieces to the real
 *   OTLP/HTTP receiver, then half-closed. Every answer must be a well-formed
 *   HTTP/1.1 status line with a known status, the connection must end, only
 *   valid OTLP may reach the sink, and a valid request afterwards is still
 *   taken.
 * - http-client: raw bytes as a server's answer to the client. The exchange
 *   must always resolve (never reject, never outlive its time limit), with a
 *   response or an error, and the next request on a fresh server must work.
 */
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { HttpClient } from '../extension-src/io/http-client.js';
import { validateRequest } from '../extension-src/otlp/validate.js';
import { HttpReceiver } from '../extension-src/receiver/http/server.js';
import { createLogger } from '../extension-src/self-telemetry/log.js';
import type { FuzzTarget } from './engine.js';
import { otlpLogs, otlpMetrics, otlpTraces } from './seeds.js';

const variant = (input: Uint8Array) => createHash('sha1').update(input).digest();
const KNOWN_STATUSES = new Set([100, 200, 204, 400, 404, 405, 408, 413, 415, 431, 500, 501]);
/** Longest a run may take before it counts as a hang. */
const RUN_LIMIT_MS = 5_000;

function post(path: string, headers: Record<string, string>, body: Uint8Array): Buffer {
  const lines = Object.entries({ host: 'localhost', 'content-length': String(body.length), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\n${lines}\r\n`), body]);
}

function chunked(path: string, body: Uint8Array): Buffer {
  const half = Math.floor(body.length / 2);
  const piece = (b: Uint8Array) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-protobuf\r\ntransfer-encoding: chunked\r\n\r\n`,
    ),
    piece(body.subarray(0, half)),
    piece(body.subarray(half)),
    Buffer.from('0\r\n\r\n'),
  ]);
}

function serverSeeds(): Uint8Array[] {
  const proto = { 'content-type': 'application/x-protobuf' };
  return [
    post('/v1/traces', proto, otlpTraces()),
    Buffer.concat([
      post('/v1/metrics', proto, otlpMetrics()),
      post('/v1/logs', proto, otlpLogs()),
      post('/observed/v1/flushed', { 'content-type': 'application/json' }, Buffer.from('{"requestId":"r-1"}')),
    ]),
    chunked('/v1/traces', otlpTraces()),
    Buffer.from('GET /v1/traces HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n\r\n'),
  ];
}

/** Writes `input` in pieces, half-closes, and collects every byte until the server closes. */
function sendRaw(port: number, input: Uint8Array, pieces: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server neither answered nor closed within ${RUN_LIMIT_MS} ms`));
    }, RUN_LIMIT_MS);
    socket.on('connect', () => {
      const size = Math.ceil(input.length / pieces) || 1;
      for (let at = 0; at < input.length; at += size) socket.write(input.subarray(at, at + size));
      socket.end();
    });
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** The statuses of the answers in `wire`; throws for anything that is not HTTP/1.1 answers back to back. */
function answerStatuses(wire: Buffer): number[] {
  const statuses: number[] = [];
  let at = 0;
  while (at < wire.length) {
    const end = wire.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0)
      throw new Error(`answer head cut short: ${JSON.stringify(wire.subarray(at, at + 80).toString('latin1'))}`);
    const head = wire.subarray(at, end).toString('latin1');
    const match = /^HTTP\/1\.1 (\d{3}) [^\r\n]*/.exec(head);
    if (!match) throw new Error(`malformed status line ${JSON.stringify(head.slice(0, 80))}`);
    const status = Number(match[1]);
    if (!KNOWN_STATUSES.has(status)) throw new Error(`unexpected status ${status}`);
    statuses.push(status);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    at = end + 4 + length;
  }
  return statuses;
}

export function httpServerTarget(): FuzzTarget {
  const counts = { inputs: 0, answers: 0, accepted: 0, invalidAccepted: 0 };
  const statuses: Record<string, number> = {};
  const receiver = new HttpReceiver({
    port: 0,
    hosts: ['127.0.0.1'],
    maxBodyBytes: 64 * 1024,
    maxDecompressedBytes: 256 * 1024,
    sink: {
      accept: (payload) => {
        counts.accepted++;
        try {
          validateRequest(payload.signal, payload.bytes);
        } catch {
          counts.invalidAccepted++;
        }
      },
      flushed: () => {},
    },
    log: createLogger('error', () => {}),
  });
  return {
    name: 'http-server',
    description:
      'raw HTTP/1.1 byte streams into the OTLP/HTTP receiver (io/http-server.ts): framing, chunked bodies, pipelines, limits, split writes',
    kind: 'bytes',
    seeds: serverSeeds,
    async setup() {
      await receiver.start();
    },
    async run(input) {
      counts.inputs++;
      const answer = await sendRaw(receiver.port as number, input, 1 + (variant(input)[0] % 6));
      for (const status of answerStatuses(answer)) {
        counts.answers++;
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    },
    async check() {
      const problems: string[] = [];
      if (counts.invalidAccepted > 0) problems.push(`${counts.invalidAccepted} invalid payloads reached the sink`);
      const before = counts.accepted;
      const answer = await sendRaw(
        receiver.port as number,
        post('/v1/traces', { 'content-type': 'application/x-protobuf' }, otlpTraces()),
        1,
      );
      if (answerStatuses(answer)[0] !== 200 || counts.accepted !== before + 1) {
        problems.push('a valid request after the run was not taken');
      }
      return problems;
    },
    teardown: () => receiver.stop(),
    stats: () => ({ ...counts, ...statuses }),
  };
}

function clientSeeds(): Uint8Array[] {
  return [
    Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n'),
    Buffer.from('HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\ncontent-length: 5\r\n\r\nslow!'),
    Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n'),
    Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'),
    Buffer.from('HTTP/1.0 200 OK\r\n\r\nuntil the close'),
  ];
}

export function httpClientTarget(): FuzzTarget {
  const client = new HttpClient(2);
  const counts = { inputs: 0, responses: 0, errors: 0 };
  let server: Server | undefined;
  let port = 0;
  let next: Uint8Array = new Uint8Array(0);
  const sockets = new Set<Socket>();
  return {
    name: 'http-client',
    description:
      "raw bytes as a backend's answer to the HTTP/1.1 client (io/http-client.ts): framing, interim answers, cut-off bodies",
    kind: 'bytes',
    seeds: clientSeeds,
    async setup() {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
        socket.once('data', () => {
          const answer = next;
          const h = variant(answer);
          // Some answers end the connection, some leave it open (the time limit must end the exchange).
          if (h[0] % 4 === 0) socket.write(answer);
          else socket.end(answer);
        });
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    },
    async run(input) {
      counts.inputs++;
      next = input;
      const started = Date.now();
      const outcome = await client.exchange({
        method: 'POST',
        url: new URL(`http://127.0.0.1:${port}/v1/traces`),
        headers: { 'content-type': 'application/x-protobuf' },
        body: otlpTraces(),
        // Short: a quarter of the answers leave the connection open, and each of those waits out this limit;
        // at 300 ms the target managed fewer than 20 inputs a second.
        timeoutMs: 50,
        maxResponseBytes: 4096,
      });
      if (Date.now() - started > RUN_LIMIT_MS) throw new Error('the exchange outlived its time limit');
      if (outcome.response) {
        counts.responses++;
        if (outcome.response.body.length > 4096) throw new Error('kept more than maxResponseBytes');
      } else if (outcome.error) {
        counts.errors++;
      } else {
        throw new Error('an exchange ended with neither a response nor an error');
      }
      // Sockets left open by the server are closed so kept-alive state does not leak between inputs.
      for (const s of sockets) s.destroy();
      client.closeIdle();
    },
    async check() {
      next = clientSeeds()[0];
      const outcome = await client.exchange({
        method: 'POST',
        url: new URL(`http://127.0.0.1:${port}/v1/traces`),
        headers: {},
        body: Buffer.from('x'),
        timeoutMs: 2_000,
      });
      return outcome.response?.status === 200 ? [] : ['a valid answer after the run was not read'];
    },
    async teardown() {
      client.closeIdle();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server?.close(resolve));
    },
    stats: () => ({ ...counts }),
  };
}
