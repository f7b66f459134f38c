/**
 * A local stand-in for an Amazon Managed Grafana workspace, on 127.0.0.1:
 * Grafana's HTTP API for folders, data sources and dashboards (statuses and
 * messages as Grafana documents them, bearer tokens checked), the AWS
 * Grafana API's service account operations (REST-JSON, AWS error types), and
 * a CloudFormation response URL that records what the handler reports.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Fault {
  method: string;
  path: string;
  status: number;
  body: unknown;
  times: number;
}

export interface CfnResponse {
  Status: string;
  Reason: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data: Record<string, string>;
}

export class FakeGrafana {
  readonly workspaceId = 'g-0123456789';
  readonly folders = new Map<string, { id: number; uid: string; title: string }>();
  readonly dataSources = new Map<string, Record<string, unknown> & { id: number; name: string }>();
  readonly dashboards = new Map<
    string,
    { id: number; folderUid: string; dashboard: Record<string, unknown>; version: number }
  >();
  readonly serviceAccounts = new Map<string, { id: string; name: string; grafanaRole: string }>();
  /** Live tokens: key -> token id. */
  readonly tokens = new Map<string, { id: string; serviceAccountId: string; secondsToLive: number }>();
  readonly requests: string[] = [];
  readonly responses: CfnResponse[] = [];
  private readonly faults: Fault[] = [];
  private nextId = 1;
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.route(req, res, Buffer.concat(chunks).toString('utf8'));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next `times` requests to `method path` answer `status` with `body`. */
  fail(method: string, path: string, status: number, body: unknown, times = 1): void {
    this.faults.push({ method, path, status, body, times });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  private route(req: IncomingMessage, res: ServerResponse, raw: string): boolean {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    this.requests.push(`${method} ${path}`);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): boolean => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? '' : JSON.stringify(body));
      return true;
    };
    const fault = this.faults.find((f) => f.method === method && f.path === path && f.times > 0);
    if (fault) {
      fault.times--;
      return send(fault.status, fault.body);
    }
    let body: Record<string, unknown> = {};
    try {
      body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      return send(400, { message: 'bad request data' });
    }
    if (path.startsWith('/cfn-response/')) {
      this.responses.push(body as unknown as CfnResponse);
      return send(200, undefined);
    }
    if (path.startsWith('/workspaces/')) return this.awsApi(method, path, body, send);
    if (path.startsWith('/api/')) {
      const auth = req.headers.authorization ?? '';
      const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!this.tokens.has(key)) return send(401, { message: 'invalid API key' });
      return this.grafanaApi(method, path, body, send);
    }
    return send(404, { message: 'Not found' });
  }

  private awsApi(
    method: string,
    path: string,
    body: Record<string, unknown>,
    send: (status: number, body: unknown, headers?: Record<string, string>) => boolean,
  ): boolean {
    const error = (status: number, type: string, message: string) =>
      send(status, { message }, { 'x-amzn-errortype': type });
    const parts = path.split('/').filter(Boolean); // workspaces, id, serviceaccounts, [saId, tokens, [tokenId]]
    if (parts[1] !== this.workspaceId)
      return error(404, 'ResourceNotFoundException', `Workspace ${parts[1]} not found`);
    if (parts.length === 3 && method === 'POST') {
      const name = String(body.name);
      if ([...this.serviceAccounts.values()].some((a) => a.name === name)) {
        return error(409, 'ConflictException', `A service account named ${name} already exists`);
      }
      const account = { id: String(this.nextId++), name, grafanaRole: String(body.grafanaRole) };
      this.serviceAccounts.set(account.id, account);
      return send(200, { ...account, workspaceId: this.workspaceId });
    }
    if (parts.length === 3 && method === 'GET') {
      return send(200, {
        serviceAccounts: [...this.serviceAccounts.values()].map((a) => ({ ...a, isDisabled: false })),
        workspaceId: this.workspaceId,
      });
    }
    const account = this.serviceAccounts.get(parts[3]);
    if (!account) return error(404, 'ResourceNotFoundException', `Service account ${parts[3]} not found`);
    if (parts.length === 4 && method === 'DELETE') {
      this.serviceAccounts.delete(account.id);
      return send(200, { serviceAccountId: account.id, workspaceId: this.workspaceId });
    }
    if (parts.length === 5 && method === 'POST') {
      const secondsToLive = Number(body.secondsToLive);
      if (!(secondsToLive >= 1 && secondsToLive <= 2_592_000)) {
        return error(400, 'ValidationException', 'secondsToLive must be from 1 to 2592000');
      }
      const token = {
        id: String(this.nextId++),
        key: `glsa_${Math.random().toString(36).slice(2)}`,
        name: String(body.name),
      };
      this.tokens.set(token.key, { id: token.id, serviceAccountId: account.id, secondsToLive });
      return send(200, { serviceAccountId: account.id, serviceAccountToken: token, workspaceId: this.workspaceId });
    }
    if (parts.length === 6 && method === 'DELETE') {
      const entry = [...this.tokens.entries()].find(([, t]) => t.id === parts[5]);
      if (!entry) return error(404, 'ResourceNotFoundException', `Token ${parts[5]} not found`);
      this.tokens.delete(entry[0]);
      return send(200, { serviceAccountId: account.id, tokenId: parts[5], workspaceId: this.workspaceId });
    }
    return error(400, 'ValidationException', `unsupported ${method} ${path}`);
  }

  private grafanaApi(
    method: string,
    path: string,
    body: Record<string, unknown>,
    send: (status: number, body: unknown) => boolean,
  ): boolean {
    const folderMatch = /^\/api\/folders\/([^/]+)$/.exec(path);
    const dataSourceMatch = /^\/api\/datasources\/uid\/([^/]+)$/.exec(path);
    const dashboardMatch = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
    if (folderMatch) {
      const uid = decodeURIComponent(folderMatch[1]);
      const folder = this.folders.get(uid);
      if (!folder) return send(404, { message: 'folder not found', status: 'not-found' });
      if (method === 'GET') return send(200, { ...folder, url: `/dashboards/f/${uid}`, version: 1 });
      if (method === 'PUT') {
        folder.title = String(body.title);
        return send(200, { ...folder, version: 2 });
      }
      if (method === 'DELETE') {
        this.folders.delete(uid);
        for (const [dashboardUid, d] of this.dashboards) if (d.folderUid === uid) this.dashboards.delete(dashboardUid);
        return send(200, { message: 'Folder deleted', id: folder.id, title: folder.title });
      }
    }
    if (path === '/api/folders' && method === 'POST') {
      if (!body.title) return send(400, { message: 'folder title cannot be empty' });
      const uid = String(body.uid);
      if (this.folders.has(uid)) return send(409, { message: 'a folder with the same uid already exists' });
      const folder = { id: this.nextId++, uid, title: String(body.title) };
      this.folders.set(uid, folder);
      return send(200, folder);
    }
    if (dataSourceMatch) {
      const uid = decodeURIComponent(dataSourceMatch[1]);
      const existing = this.dataSources.get(uid);
      if (!existing) return send(404, { message: 'Data source not found' });
      if (method === 'GET') return send(200, existing);
      if (method === 'PUT') {
        const updated = { ...body, id: existing.id, uid, name: String(body.name) };
        this.dataSources.set(uid, updated);
        return send(200, { datasource: updated, id: existing.id, message: 'Datasource updated', name: updated.name });
      }
      if (method === 'DELETE') {
        this.dataSources.delete(uid);
        return send(200, { message: 'Data source deleted', id: existing.id });
      }
    }
    if (path === '/api/datasources' && method === 'POST') {
      if (!body.name || !body.type) return send(400, { message: 'Required field is missing' });
      if ([...this.dataSources.values()].some((d) => d.name === body.name)) {
        return send(409, { message: 'data source with the same name already exists' });
      }
      const created = { ...body, id: this.nextId++, name: String(body.name) };
      this.dataSources.set(String(body.uid), created);
      return send(200, { datasource: created, id: created.id, message: 'Datasource added', name: created.name });
    }
    if (path === '/api/dashboards/db' && method === 'POST') {
      const dashboard = body.dashboard as Record<string, unknown> | undefined;
      if (!dashboard?.title) return send(400, { message: 'Dashboard title cannot be empty' });
      const folderUid = String(body.folderUid ?? '');
      if (folderUid && !this.folders.has(folderUid)) return send(400, { message: 'folder not found' });
      const uid = String(dashboard.uid);
      const existing = this.dashboards.get(uid);
      if (existing && body.overwrite !== true) {
        return send(412, { message: 'The dashboard has been changed by someone else', status: 'version-mismatch' });
      }
      const saved = { id: existing?.id ?? this.nextId++, folderUid, dashboard, version: (existing?.version ?? 0) + 1 };
      this.dashboards.set(uid, saved);
      return send(200, { id: saved.id, uid, url: `/d/${uid}`, status: 'success', version: saved.version, slug: uid });
    }
    if (dashboardMatch && method === 'DELETE') {
      const uid = decodeURIComponent(dashboardMatch[1]);
      const existing = this.dashboards.get(uid);
      if (!existing) return send(404, { message: 'Dashboard not found', status: 'not-found' });
      this.dashboards.delete(uid);
      return send(200, {
        title: existing.dashboard.title,
        message: `Dashboard ${existing.dashboard.title} deleted`,
        id: existing.id,
      });
    }
    return send(404, { message: 'Not found' });
  }
}
