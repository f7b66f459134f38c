/**
 * The OpenSearch exporter: OTLP logs (and spans, when a traces index is set)
 * in, `_bulk` requests out (NDJSON, `create` actions, so data streams work as
 * well as plain indices), to OpenSearch, Amazon OpenSearch Service (SigV4,
 * service `es`), OpenSearch Serverless (`aoss`) or Elasticsearch.
 *
 * Documents are built when a payload arrives (documents.ts) and wait in a
 * bounded queue as ready NDJSON; beyond the bound the oldest are dropped and
 * counted. A flush sends them in requests below the size limit, one after
 * another, until the queue is empty or the deadline is near.
 *
 * `_bulk` can succeed as a request and still fail documents: the answer then
 * says `errors: true` and gives each item a status. Items refused with 429 or
 * a 5xx are retried (within the deadline, at most MAX_ITEM_ATTEMPTS times,
 * then dropped); any other refusal (a mapping conflict, a bad index name) is
 * final: the document is dropped and counted by the error type the backend
 * gave, logged once per type. A whole request refused with 429/5xx or a
 * network error is retried with jittered exponential backoff (or Retry-After,
 * retry.ts); refused with another status (401, 403, 400, 413) it is dropped
 * and counted. A backend that stays down is skipped for a growing cool-down
 * (BackendHealth) so it does not take every invocation's flush deadline.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { credentialsFromEnv } from '../../aws/credentials.js';
import { RequestSigner } from '../../aws/sigv4.js';
import type { Exporter, ExporterCounterRow } from '../../contracts/exporter.js';
import type { OtlpPayload } from '../../contracts/payload.js';
import { decodeRequest } from '../../otlp/proto.js';
import type { Signal } from '../../otlp/types.js';
import { createLogger, type Logger } from '../../self-telemetry/log.js';
import type { OneBackendDeps } from '../deps.js';
import { SerialFlush } from '../serial-flush.js';
import { BULK_STATUS } from '../transport/classify.js';
import { BackendHealth, backoffDelay, DEFAULT_RETRY, type RetryPolicy, sendWithRetry } from '../transport/retrying.js';
import { userAgent } from '../transport/send.js';
import type { OpenSearchOptions } from './config.js';
import { type Document, indexName, logDocuments, spanDocuments } from './documents.js';

/** Attempts per document before a retryable item failure becomes a drop. */
export const MAX_ITEM_ATTEMPTS = 5;

export interface OpenSearchCounters {
  documentsReceived: number;
  documentsSent: number;
  documentsRetried: number;
  /** By reason: queue_full, undecodable, rejected_<status>, retries_exhausted, shutdown, or the backend's error.type. */
  documentsDropped: Record<string, number>;
  requestsSent: number;
  requestsRetried: number;
}

export interface OpenSearchDeps extends OneBackendDeps {
  /** Where AWS credentials are read from (the process environment by default). */
  readonly env?: NodeJS.ProcessEnv;
}

interface QueuedDocument {
  /** Action and source lines, newline-terminated. */
  readonly ndjson: string;
  readonly bytes: number;
  attempts: number;
}

interface BulkItemResult {
  status: number;
  errorType?: string;
  reason?: string;
}

/** _bulk answers list every item: keep far more than the helper's default for log lines. */
const MAX_BULK_ANSWER_BYTES = 64 * 1024 * 1024;

/** The per-item outcomes of a _bulk answer, in request order; undefined when the body is not a _bulk answer. */
export function parseBulkResponse(body: string): { errors: boolean; items: BulkItemResult[] } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { items?: unknown }).items)) {
    return undefined;
  }
  const { errors, items } = parsed as { errors?: unknown; items: unknown[] };
  return {
    errors: errors === true,
    items: items.map((item) => {
      const result = item && typeof item === 'object' ? Object.values(item as Record<string, unknown>)[0] : undefined;
      const r = (result ?? {}) as { status?: unknown; error?: { type?: unknown; reason?: unknown } };
      return {
        status: typeof r.status === 'number' ? r.status : 0,
        errorType: typeof r.error?.type === 'string' ? r.error.type : undefined,
        reason: typeof r.error?.reason === 'string' ? r.error.reason : undefined,
      };
    }),
  };
}

export class OpenSearchExporter implements Exporter {
  readonly name = 'opensearch';
  readonly signals: readonly Signal[];
  private queue: QueuedDocument[] = [];
  private readonly bulkUrl: URL;
  private readonly signer: RequestSigner | undefined;
  private readonly log: Logger;
  private readonly backoff: RetryPolicy;
  private readonly health: BackendHealth;
  private readonly rounds: SerialFlush;
  private readonly counters: OpenSearchCounters = {
    documentsReceived: 0,
    documentsSent: 0,
    documentsRetried: 0,
    documentsDropped: {},
    requestsSent: 0,
    requestsRetried: 0,
  };

  private readonly extraHeaders: () => Readonly<Record<string, string>>;

  constructor(
    readonly options: OpenSearchOptions,
    deps: OpenSearchDeps = {},
  ) {
    this.signals = options.tracesIndex ? ['logs', 'traces'] : ['logs'];
    // The base as a string: LLRT's URL takes no URL object as base.
    this.bulkUrl = new URL(`${options.endpoint.pathname.replace(/\/+$/, '')}/_bulk`, options.endpoint.href);
    this.log = (deps.log ?? createLogger()).child(this.name);
    this.backoff = { ...DEFAULT_RETRY, ...deps.retry };
    this.health = deps.health ?? new BackendHealth();
    this.rounds = new SerialFlush(
      this.health,
      (deadlineMs, final) => this.sendQueued(deadlineMs, final),
      () => this.queue.length > 0,
    );
    this.extraHeaders = deps.extraHeaders ?? (() => ({}));
    if (options.auth.kind === 'sigv4') {
      const env = deps.env ?? process.env;
      this.signer = new RequestSigner(options.auth.service, options.auth.region, () => credentialsFromEnv(env));
    }
  }

  counterRows(): ExporterCounterRow[] {
    const s = this.stats();
    return [
      {
        exporter: this.name,
        signal: this.signals.join('+'),
        unit: 'documents',
        exported: s.documentsSent,
        retried: s.documentsRetried,
        dropped: s.documentsDropped,
      },
    ];
  }

  stats(): OpenSearchCounters {
    return { ...this.counters, documentsDropped: { ...this.counters.documentsDropped } };
  }

  enqueue(payload: OtlpPayload): void {
    if (!this.signals.includes(payload.signal)) return;
    let docs: Document[];
    let template: string;
    try {
      if (payload.signal === 'logs') {
        docs = logDocuments(decodeRequest('logs', payload.bytes));
        template = this.options.logsIndex;
      } else {
        docs = spanDocuments(decodeRequest('traces', payload.bytes));
        template = this.options.tracesIndex ?? '';
      }
    } catch (error) {
      this.counters.documentsReceived += payload.items;
      this.drop('undecodable', payload.items, `an OTLP ${payload.signal} payload could not be decoded (${error})`);
      return;
    }
    this.counters.documentsReceived += docs.length;
    for (const doc of docs) {
      const action = JSON.stringify({ create: { _index: indexName(template, doc.timeMs) } });
      const ndjson = `${action}\n${JSON.stringify(doc.source)}\n`;
      this.queue.push({ ndjson, bytes: Buffer.byteLength(ndjson), attempts: 0 });
    }
    const excess = this.queue.length - this.options.maxQueuedDocuments;
    if (excess > 0) {
      this.queue.splice(0, excess);
      this.drop('queue_full', excess, 'the queue is full; the oldest documents were dropped');
    }
  }

  pendingItems(): number {
    return this.queue.length;
  }

  /** `final` comes from the pipeline's SHUTDOWN flush (see ../serial-flush.ts). */
  flush(deadlineMs: number, options: { final?: boolean } = {}): Promise<void> {
    return this.rounds.flush(deadlineMs, options);
  }

  async shutdown(deadlineMs: number): Promise<void> {
    await this.rounds.flush(deadlineMs, { final: true });
    if (this.queue.length > 0) {
      const left = this.queue.length;
      this.queue = [];
      this.drop('shutdown', left, 'documents still queued at shutdown could not be sent in time');
    }
  }

  private drop(reason: string, count: number, message: string): void {
    if (count <= 0) return;
    this.counters.documentsDropped[reason] = (this.counters.documentsDropped[reason] ?? 0) + count;
    this.log.once(
      `drop:${reason}`,
      'warn',
      `dropped ${count} document(s): ${message} (logged once; see the self metrics for totals)`,
    );
  }

  private takeBatch(): QueuedDocument[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n].bytes <= this.options.maxBytes)) {
      bytes += this.queue[n].bytes;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async headers(body: Uint8Array): Promise<Record<string, string>> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-ndjson',
      'user-agent': userAgent(),
      ...this.extraHeaders(),
    };
    if (this.options.gzip) headers['content-encoding'] = 'gzip';
    const auth = this.options.auth;
    if (auth.kind === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    }
    if (this.signer) {
      // OpenSearch Serverless requires the payload hash header; managed domains accept it.
      headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
      return this.signer.sign({ method: 'POST', url: this.bulkUrl, headers, body });
    }
    return headers;
  }

  private async sendQueued(deadlineMs: number, final: boolean): Promise<void> {
    // Rounds of item-level retries within this flush, for their backoff.
    let itemRetryRound = 0;
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const ndjson = Buffer.from(batch.map((d) => d.ndjson).join(''));
      const body = this.options.gzip ? gzipSync(ndjson) : ndjson;
      // 429 and every 5xx may pass: OpenSearch answers 503/504 while shards move, 429 when queues are full.
      const result = await sendWithRetry(
        {
          url: this.bulkUrl,
          headers: () => this.headers(body),
          body,
          timeoutMs: this.options.timeoutMs,
          maxResponseBytes: MAX_BULK_ANSWER_BYTES,
        },
        BULK_STATUS,
        deadlineMs,
        { ...this.backoff, maxAttempts: final ? undefined : this.health.attemptsAllowed() },
        {
          onRetry: (reason) => {
            this.counters.requestsRetried++;
            this.log.once(`retry:${reason.split(':')[0]}`, 'warn', `_bulk failed (${reason}); retrying (logged once)`);
          },
        },
      );
      this.counters.requestsSent += result.attempts;
      if (result.outcome === 'deferred') {
        this.queue.unshift(...batch);
        this.health.failed(result.notBeforeMs);
        this.log.once(
          `deferred:${result.reason.split(':')[0]}`,
          'warn',
          `_bulk deferred (${result.reason}); documents stay queued (logged once)`,
        );
        return;
      }
      this.health.succeeded();
      if (result.outcome === 'rejected') {
        this.drop(
          `rejected_${result.status}`,
          batch.length,
          `_bulk refused with HTTP ${result.status}: ${result.message}`,
        );
        continue;
      }
      const again = this.settleItems(batch, result.response.body.toString('utf8'));
      if (again.length === 0) continue;
      this.queue.unshift(...again);
      this.counters.documentsRetried += again.length;
      const wait = backoffDelay(++itemRetryRound, this.backoff);
      if (Date.now() + wait >= deadlineMs) return;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Counts delivered and dropped documents of a 2xx _bulk answer; returns those to retry. */
  private settleItems(batch: QueuedDocument[], body: string): QueuedDocument[] {
    const parsed = parseBulkResponse(body);
    if (!parsed) {
      this.log.once(
        'unparsable',
        'warn',
        'a _bulk answer could not be read; counting its documents as delivered (logged once)',
      );
      this.counters.documentsSent += batch.length;
      return [];
    }
    if (!parsed.errors && parsed.items.length === batch.length) {
      this.counters.documentsSent += batch.length;
      return [];
    }
    const retry: QueuedDocument[] = [];
    batch.forEach((doc, i) => {
      const item = parsed.items[i];
      if (!item) {
        // An answer with fewer items than documents: the missing ones are unaccounted for, so retry them.
        retry.push(doc);
        return;
      }
      if (item.status >= 200 && item.status < 300) {
        this.counters.documentsSent++;
      } else if (BULK_STATUS(item.status) === 'retryable') {
        doc.attempts++;
        if (doc.attempts >= MAX_ITEM_ATTEMPTS) {
          this.drop('retries_exhausted', 1, `a document was refused ${MAX_ITEM_ATTEMPTS} times (last: ${item.status})`);
        } else {
          retry.push(doc);
        }
      } else {
        const reason = item.errorType ?? `rejected_${item.status}`;
        this.drop(reason, 1, `${reason} (HTTP ${item.status}): ${item.reason ?? 'no reason given'}`);
      }
    });
    return retry;
  }
}
