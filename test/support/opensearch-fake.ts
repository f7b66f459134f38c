/**
 * A local stand-in for OpenSearch's `_bulk` API, following its documented
 * contract, for exporter tests (no OpenSearch server installs here):
 *
 * - `POST /_bulk` and `POST /<index>/_bulk`, body NDJSON (content-type
 *   application/x-ndjson or application/json, optionally gzip): action lines
 *   (`index`, `create`, `update`, `delete`) each followed by a source line
 *   except `delete`; the body must end with a newline. A malformed body gets
 *   HTTP 400 with `{ error: { root_cause, type, reason }, status }`.
 * - The answer: `{ took, errors, items }`, one item per action in order,
 *   `{ <action>: { _index, _id, status, result | error: { type, reason } } }`.
 * - Per-item failures as OpenSearch gives them: invalid index names
 *   (`invalid_index_name_exception`, 400), a field whose type conflicts with
 *   the one the index mapped first (`mapper_parsing_exception`, 400), and any
 *   failure a test injects (e.g. 429 `es_rejected_execution_exception`).
 * - Optional basic auth (401 without it) and request-level faults.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface BulkItemFault {
  status: number;
  type: string;
  reason?: string;
}

export interface StoredDocument {
  index: string;
  id: string;
  source: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const ACTIONS = new Set(['index', 'create', 'update', 'delete']);

function errorBody(status: number, type: string, reason: string): string {
  return JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status });
}

function indexNameProblem(name: string): string | undefined {
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/^[_\-+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (/[\\/*?"<>| ,#:]/.test(name)) return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]';
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  return undefined;
}

/** Leaf paths of a document with their JSON types, objects expanded like OpenSearch's dynamic mapping does. */
function leafTypes(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Json)) leafTypes(v, prefix ? `${prefix}.${k}` : k, out);
    if (prefix) out.set(prefix, 'object');
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) leafTypes(v, prefix, out);
    return;
  }
  if (value === null) return;
  const type = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
  out.set(prefix, type);
}

export class OpenSearchFake {
  readonly documents: StoredDocument[] = [];
  readonly requests: {
    method: string;
    rawUrl: string;
    headers: IncomingHttpHeaders;
    /** The body as it arrived (compressed, if it was), for signature checks. */
    rawBody: Buffer;
    path: string;
    lines: number;
  }[] = [];
  /** Decides a per-item failure; called for every action with the running item number (1-based). */
  itemFault: ((source: Json, index: string, itemNumber: number) => BulkItemFault | undefined) | undefined;
  /** Decides a whole-request failure; called with the request number (1-based). */
  requestFault:
    | ((requestNumber: number) => { status: number; headers?: Record<string, string> } | undefined)
    | undefined;
  basicAuth: { username: string; password: string } | undefined;
  private readonly mappings = new Map<string, Map<string, string>>();
  private server: Server | undefined;
  private itemCount = 0;
  private nextId = 1;

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (status: number, body: string, headers: Record<string, string> = {}) =>
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
        const path = (req.url ?? '').split('?')[0];
        const m = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(path);
        if (!m || req.method !== 'POST') {
          send(405, errorBody(405, 'method_not_allowed', `no handler for ${req.method} ${path}`));
          return;
        }
        if (this.basicAuth) {
          const expected = `Basic ${Buffer.from(`${this.basicAuth.username}:${this.basicAuth.password}`).toString('base64')}`;
          if (req.headers.authorization !== expected) {
            send(401, errorBody(401, 'security_exception', 'missing authentication credentials'));
            return;
          }
        }
        const fault = this.requestFault?.(this.requests.length + 1);
        const rawBody = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(rawBody) : rawBody;
        const text = body.toString('utf8');
        this.requests.push({
          method: req.method ?? '',
          rawUrl: req.url ?? '',
          headers: req.headers,
          rawBody,
          path,
          lines: text.split('\n').length - 1,
        });
        if (fault) {
          send(fault.status, errorBody(fault.status, 'injected', 'injected failure'), fault.headers);
          return;
        }
        const contentType = String(req.headers['content-type'] ?? '');
        if (!/^application\/(x-ndjson|json)/.test(contentType)) {
          send(406, errorBody(406, 'content_type', `Content-Type header [${contentType}] is not supported`));
          return;
        }
        const answer = this.bulk(text, m[1]);
        if (typeof answer === 'string') send(400, answer);
        else send(200, JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Documents stored in an index. */
  index(name: string): Json[] {
    return this.documents.filter((d) => d.index === name).map((d) => d.source);
  }

  /** The _bulk answer, or the body of a 400 for a malformed request. */
  private bulk(text: string, defaultIndex: string | undefined): string | Json {
    const started = Date.now();
    if (text.length === 0) return errorBody(400, 'action_request_validation_exception', 'no requests added');
    if (!text.endsWith('\n')) {
      return errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');
    }
    const lines = text.slice(0, -1).split('\n');
    const parsed: { action: string; meta: Json; source?: Json }[] = [];
    for (let i = 0; i < lines.length; i++) {
      let actionLine: Json;
      try {
        actionLine = JSON.parse(lines[i]) as Json;
      } catch {
        return errorBody(400, 'x_content_parse_exception', `[${i + 1}:1] malformed action/metadata line`);
      }
      const keys = Object.keys(actionLine);
      if (keys.length !== 1 || !ACTIONS.has(keys[0])) {
        return errorBody(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${i + 1}], expected one of index, create, update, delete`,
        );
      }
      const action = keys[0];
      const meta = (actionLine[action] ?? {}) as Json;
      if (action === 'delete') {
        parsed.push({ action, meta });
        continue;
      }
      i++;
      if (i >= lines.length) {
        return errorBody(400, 'action_request_validation_exception', `source is missing for action line [${i}]`);
      }
      try {
        const source = JSON.parse(lines[i]);
        if (typeof source !== 'object' || source === null || Array.isArray(source)) throw new Error('not an object');
        parsed.push({ action, meta, source });
      } catch {
        return errorBody(400, 'mapper_parsing_exception', `failed to parse source on line [${i + 1}]`);
      }
    }
    let errors = false;
    const items = parsed.map(({ action, meta, source }) => {
      this.itemCount++;
      const index = String(meta._index ?? defaultIndex ?? '');
      const id = String(meta._id ?? `doc-${this.nextId++}`);
      const fail = (status: number, type: string, reason: string) => {
        errors = true;
        return { [action]: { _index: index, _id: id, status, error: { type, reason, index } } };
      };
      if (!index) return fail(400, 'action_request_validation_exception', 'index is missing');
      const problem = indexNameProblem(index);
      if (problem) return fail(400, 'invalid_index_name_exception', `Invalid index name [${index}], ${problem}`);
      const injected = source ? this.itemFault?.(source, index, this.itemCount) : undefined;
      if (injected) return fail(injected.status, injected.type, injected.reason ?? injected.type);
      if (source) {
        const conflict = this.mapConflict(index, source);
        if (conflict) return fail(400, 'mapper_parsing_exception', conflict);
        this.documents.push({ index, id, source });
      }
      return {
        [action]: {
          _index: index,
          _id: id,
          _version: 1,
          result: action === 'delete' ? 'deleted' : 'created',
          _shards: { total: 1, successful: 1, failed: 0 },
          _seq_no: this.documents.length - 1,
          _primary_term: 1,
          status: action === 'delete' ? 200 : 201,
        },
      };
    });
    return { took: Date.now() - started, errors, items };
  }

  /** Like dynamic mapping: the first type seen for a field path wins; a different one later is refused. */
  private mapConflict(index: string, source: Json): string | undefined {
    let mapping = this.mappings.get(index);
    if (!mapping) {
      mapping = new Map();
      this.mappings.set(index, mapping);
    }
    const types = new Map<string, string>();
    leafTypes(source, '', types);
    for (const [path, type] of types) {
      const known = mapping.get(path);
      if (known && known !== type) return `failed to parse field [${path}] of type [${known}]: got a ${type}`;
    }
    for (const [path, type] of types) if (!mapping.has(path)) mapping.set(path, type);
    return undefined;
  }
}
