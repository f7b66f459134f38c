/**
 * A stand-in for Amazon Managed Service for Prometheus, for what cannot run
 * here: the control plane's DescribeWorkspace (restJson1, GET
 * /workspaces/{workspaceId}, errors named in x-amzn-errortype) and the
 * workspace's SigV4-protected data plane (POST .../api/v1/remote_write, GET or
 * POST .../api/v1/query). Every request's signature is checked with the
 * independent verifier (service "aps", the configured region); the data plane
 * is forwarded to a real Prometheus, so what is stored and queried is real, or
 * to real Cortex (the engine AMP is built on, the workspace as its tenant), so
 * the answers to faults are Cortex's own.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4 } from '../support/sigv4-verifier.js';

export interface AmpFakeOptions {
  readonly region: string;
  readonly workspaceId: string;
  /** Where the data plane is forwarded (a real Prometheus's or Cortex's base URL). */
  readonly prometheusUrl: string;
  /** The base URL is Cortex's: push at /api/v1/push, queries under /prometheus, the workspace id as tenant. */
  readonly cortex?: boolean;
  /** accessKeyId -> secretAccessKey of the identities allowed in. */
  readonly secrets: Record<string, string>;
  readonly status?: string;
}

export interface FakeRequest {
  readonly plane: 'control' | 'data';
  readonly method: string;
  readonly path: string;
  readonly verdict: string;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ message }));
}

export class AmpFake {
  readonly requests: FakeRequest[] = [];
  private server: Server | undefined;

  constructor(private readonly options: AmpFakeOptions) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `http://127.0.0.1:${address?.port ?? 0}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0];
    const dataPlane = /^\/workspaces\/[^/]+\/api\/v1\//.test(path);
    const verdict = verifySigV4(
      { method: req.method ?? 'GET', rawUrl, headers: req.headers, body },
      this.options.secrets,
    );
    let outcome = verdict.ok ? 'ok' : verdict.reason;
    if (verdict.ok && verdict.scope.split('/').slice(1, 3).join('/') !== `${this.options.region}/aps`) {
      outcome = `wrong scope ${verdict.scope}`;
    }
    this.requests.push({ plane: dataPlane ? 'data' : 'control', method: req.method ?? '', path, verdict: outcome });
    if (outcome !== 'ok') {
      // What AMP answers a bad signature with (the data plane answers 403 too).
      awsError(res, 403, 'InvalidSignatureException', `The request signature we calculated does not match: ${outcome}`);
      return;
    }
    const control = /^\/workspaces\/([^/]+)$/.exec(path);
    if (control && req.method === 'GET') {
      const id = decodeURIComponent(control[1]);
      if (id !== this.options.workspaceId) {
        awsError(res, 404, 'ResourceNotFoundException', `Workspace ${id} not found`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          workspace: {
            workspaceId: id,
            arn: `arn:aws:aps:${this.options.region}:123456789012:workspace/${id}`,
            alias: 'validate-test',
            status: { statusCode: this.options.status ?? 'ACTIVE' },
            prometheusEndpoint: `${this.url}/workspaces/${id}/`,
            createdAt: Math.floor(Date.now() / 1000),
            tags: {},
          },
        }),
      );
      return;
    }
    const data = /^\/workspaces\/([^/]+)\/api\/v1\/(remote_write|query)$/.exec(path);
    if (!data || decodeURIComponent(data[1]) !== this.options.workspaceId) {
      awsError(res, 404, 'ResourceNotFoundException', `no route for ${req.method} ${path}`);
      return;
    }
    const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?')) : '';
    const cortex = this.options.cortex === true;
    const write = cortex ? '/api/v1/push' : '/api/v1/write';
    const target = data[2] === 'remote_write' ? write : `${cortex ? '/prometheus' : ''}/api/v1/query${query}`;
    const headers: Record<string, string> = Object.fromEntries(
      ['content-type', 'content-encoding', 'x-prometheus-remote-write-version']
        .filter((h) => req.headers[h] !== undefined)
        .map((h) => [h, String(req.headers[h])]),
    );
    if (cortex) headers['x-scope-orgid'] = this.options.workspaceId;
    const forwarded = await fetch(`${this.options.prometheusUrl}${target}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' ? undefined : body,
    });
    res.writeHead(forwarded.status, { 'content-type': forwarded.headers.get('content-type') ?? 'text/plain' });
    res.end(Buffer.from(await forwarded.arrayBuffer()));
  }
}
