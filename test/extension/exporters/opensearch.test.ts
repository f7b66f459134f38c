import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OtlpPayload } from '../../../extension-src/contracts/payload.js';
import { parseOpenSearchOptions } from '../../../extension-src/exporters/opensearch/config.js';
import { indexName, isoFromNanos } from '../../../extension-src/exporters/opensearch/documents.js';
import { OpenSearchExporter } from '../../../extension-src/exporters/opensearch/exporter.js';
import { encodeRequest } from '../../../extension-src/otlp/proto.js';
import { SpanKind, StatusCode } from '../../../extension-src/otlp/types.js';
import { toAttributes } from '../../../extension-src/resource/attributes.js';
import { createLogger, silentLogger } from '../../../extension-src/self-telemetry/log.js';
import { OpenSearchFake } from '../../support/opensearch-fake.js';
import { verifySigV4 } from '../../support/sigv4-verifier.js';

const DAY1 = Date.parse('2026-11-23T10:00:00.000Z');
const DAY2 = Date.parse('2026-11-24T00:00:01.000Z');
const ns = (ms: number) => String(BigInt(ms) * 1_000_000n) as never;

function logsPayload(
  records: { ms: number; body: string; level?: string; attrs?: Record<string, string | number> }[],
): OtlpPayload {
  const bytes = encodeRequest('logs', {
    resourceLogs: [
      {
        resource: { attributes: toAttributes({ 'service.name': 'orders-api', 'faas.name': 'orders-api' }) },
        scopeLogs: [
          {
            scope: { name: 'observed-lambda/platform' },
            logRecords: records.map((r) => ({
              timeUnixNano: ns(r.ms),
              observedTimeUnixNano: ns(r.ms + 1),
              severityText: r.level ?? 'INFO',
              severityNumber: r.level === 'ERROR' ? 17 : 9,
              body: { stringValue: r.body },
              attributes: toAttributes(r.attrs ?? {}),
              traceId: Uint8Array.from(Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex')),
              spanId: Uint8Array.from(Buffer.from('00f067aa0ba902b7', 'hex')),
            })),
          },
        ],
      },
    ],
  });
  return { signal: 'logs', bytes, items: records.length };
}

function exporterFor(fake: OpenSearchFake, env: Record<string, string> = {}, log: string[] = []) {
  const { options, warnings } = parseOpenSearchOptions({ OBSERVED_OPENSEARCH_ENDPOINT: fake.url, ...env });
  expect(warnings).toEqual([]);
  return new OpenSearchExporter(options!, {
    log: createLogger('debug', (line) => log.push(line)),
    retry: { initialMs: 5, maxMs: 20 },
    env: {},
  });
}

describe('OpenSearch _bulk fake', () => {
  let fake: OpenSearchFake;
  beforeEach(async () => {
    fake = await new OpenSearchFake().start();
  });
  afterEach(async () => {
    await fake.stop();
  });

  const raw = (body: string, contentType = 'application/x-ndjson') =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = request(`${fake.url}/_bulk`, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });

  it('follows the documented contract for malformed bodies and per-item failures', async () => {
    expect((await raw('{"create":{"_index":"a"}}\n{"x":1}')).status).toBe(400); // no final newline
    expect((await raw('{"create":{"_index":"a"}}\nnot json\n')).status).toBe(400);
    expect((await raw('{"upsert":{}}\n{}\n')).status).toBe(400);
    expect((await raw('{"create":{"_index":"a"}}\n{"x":1}\n', 'text/plain')).status).toBe(406);
    const mixed = await raw(
      '{"create":{"_index":"logs"}}\n{"n":1}\n{"create":{"_index":"Bad"}}\n{"n":2}\n{"create":{"_index":"logs"}}\n{"n":"text"}\n',
    );
    expect(mixed.status).toBe(200);
    expect(mixed.json.errors).toBe(true);
    const items = mixed.json.items as Record<string, { status: number; error?: { type: string } }>[];
    expect(items.map((i) => i.create.status)).toEqual([201, 400, 400]);
    expect(items[1].create.error?.type).toBe('invalid_index_name_exception');
    expect(items[2].create.error?.type).toBe('mapper_parsing_exception');
    expect(typeof mixed.json.took).toBe('number');
    expect(fake.index('logs')).toEqual([{ n: 1 }]);
  });
});

describe('OpenSearch exporter', () => {
  let fake: OpenSearchFake;
  beforeEach(async () => {
    fake = await new OpenSearchFake().start();
  });
  afterEach(async () => {
    await fake.stop();
  });

  it('writes log records as ss4o documents into dated indices', async () => {
    const exporter = exporterFor(fake);
    exporter.enqueue(
      logsPayload([
        { ms: DAY1, body: 'first', attrs: { 'faas.invocation_id': 'r1' } },
        { ms: DAY2, body: 'second', level: 'ERROR' },
      ]),
    );
    expect(exporter.pendingItems()).toBe(2);
    await exporter.flush(Date.now() + 5_000);
    expect(exporter.pendingItems()).toBe(0);
    const [first] = fake.index('otel-logs-2026.11.23');
    const [second] = fake.index('otel-logs-2026.11.24');
    expect(first).toMatchObject({
      '@timestamp': '2026-11-23T10:00:00.000Z',
      observedTimestamp: '2026-11-23T10:00:00.001Z',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      severity: { text: 'INFO', number: 9 },
      body: 'first',
      attributes: { 'faas.invocation_id': 'r1' },
      resource: { 'service.name': 'orders-api', 'faas.name': 'orders-api' },
      instrumentationScope: { name: 'observed-lambda/platform' },
    });
    expect(second).toMatchObject({ severity: { text: 'ERROR', number: 17 }, body: 'second' });
    expect(fake.requests[0].headers['content-type']).toBe('application/x-ndjson');
    expect(exporter.stats()).toMatchObject({ documentsReceived: 2, documentsSent: 2, requestsSent: 1 });
  });

  it('retries only the items refused with 429 or 5xx, and drops and counts the rest', async () => {
    const exporter = exporterFor(fake);
    const attempts = new Map<string, number>();
    fake.itemFault = (source) => {
      const body = String(source.body);
      const n = (attempts.get(body) ?? 0) + 1;
      attempts.set(body, n);
      if (body === 'busy' && n === 1) return { status: 429, type: 'es_rejected_execution_exception' };
      if (body === 'flaky' && n <= 2) return { status: 503, type: 'unavailable_shards_exception' };
      if (body === 'always-busy') return { status: 429, type: 'es_rejected_execution_exception' };
      return undefined;
    };
    exporter.enqueue(
      logsPayload([
        { ms: DAY1, body: 'ok' },
        { ms: DAY1, body: 'busy' },
        { ms: DAY1, body: 'flaky' },
        { ms: DAY1, body: 'always-busy' },
        // A field mapped as a number by the first document, sent as a string: refused for good.
        { ms: DAY1, body: 'typed', attrs: { code: 7 } },
        { ms: DAY1, body: 'conflict', attrs: { code: 'seven' } },
      ]),
    );
    await exporter.flush(Date.now() + 10_000);
    const stored = fake.index('otel-logs-2026.11.23').map((d) => d.body);
    expect(stored.sort()).toEqual(['busy', 'flaky', 'ok', 'typed']);
    expect(attempts.get('ok')).toBe(1); // delivered items are never sent again
    expect(attempts.get('always-busy')).toBe(5);
    const stats = exporter.stats();
    expect(stats.documentsSent).toBe(4);
    expect(stats.documentsDropped).toEqual({ mapper_parsing_exception: 1, retries_exhausted: 1 });
    expect(stats.documentsRetried).toBeGreaterThanOrEqual(3);
    expect(exporter.pendingItems()).toBe(0);
  });

  it('retries whole requests refused with 5xx, and keeps documents queued past the deadline', async () => {
    const exporter = exporterFor(fake);
    fake.requestFault = (n) => (n <= 2 ? { status: 503 } : undefined);
    exporter.enqueue(logsPayload([{ ms: DAY1, body: 'eventually' }]));
    await exporter.flush(Date.now() + 5_000);
    expect(fake.index('otel-logs-2026.11.23')).toHaveLength(1);
    expect(exporter.stats().requestsRetried).toBe(2);

    fake.requestFault = () => ({ status: 503, headers: { 'retry-after': '30' } });
    exporter.enqueue(logsPayload([{ ms: DAY1, body: 'later' }]));
    await exporter.flush(Date.now() + 300);
    expect(exporter.pendingItems()).toBe(1);
    // A backend that asked for 30 s is left alone by the next flushes (the documents wait)...
    fake.requestFault = undefined;
    const requestsBefore = fake.requests.length;
    await exporter.flush(Date.now() + 5_000);
    expect(fake.requests.length).toBe(requestsBefore);
    expect(exporter.pendingItems()).toBe(1);
    // ...but not by the final flush at SHUTDOWN.
    await exporter.shutdown(Date.now() + 5_000);
    expect(exporter.pendingItems()).toBe(0);
    expect(fake.index('otel-logs-2026.11.23').map((d) => d.body)).toEqual(['eventually', 'later']);
  });

  it("the pipeline's SHUTDOWN flush ({ final: true }) tries a backend that is cooling down", async () => {
    const exporter = exporterFor(fake);
    fake.requestFault = () => ({ status: 503, headers: { 'retry-after': '30' } });
    exporter.enqueue(logsPayload([{ ms: DAY1, body: 'held' }]));
    await exporter.flush(Date.now() + 300);
    expect(exporter.pendingItems()).toBe(1);
    fake.requestFault = undefined;
    await exporter.flush(Date.now() + 5_000, { final: true });
    expect(exporter.pendingItems()).toBe(0);
    expect(fake.index('otel-logs-2026.11.23').map((d) => d.body)).toEqual(['held']);
  });

  it('sends basic auth, and drops what the backend refuses for good', async () => {
    fake.basicAuth = { username: 'writer', password: 's3cret' };
    const log: string[] = [];
    const wrong = exporterFor(
      fake,
      { OBSERVED_OPENSEARCH_USERNAME: 'writer', OBSERVED_OPENSEARCH_PASSWORD: 'nope' },
      log,
    );
    wrong.enqueue(logsPayload([{ ms: DAY1, body: 'x' }]));
    await wrong.flush(Date.now() + 2_000);
    expect(wrong.stats().documentsDropped).toEqual({ rejected_401: 1 });
    expect(log.join('\n')).toMatch(/401/);
    const right = exporterFor(fake, { OBSERVED_OPENSEARCH_USERNAME: 'writer', OBSERVED_OPENSEARCH_PASSWORD: 's3cret' });
    right.enqueue(logsPayload([{ ms: DAY1, body: 'y' }]));
    await right.flush(Date.now() + 2_000);
    expect(fake.index('otel-logs-2026.11.23').map((d) => d.body)).toEqual(['y']);
  });

  it('signs with SigV4 for the aoss service, gzip bodies included', async () => {
    const { options } = parseOpenSearchOptions({
      OBSERVED_OPENSEARCH_ENDPOINT: fake.url,
      OBSERVED_OPENSEARCH_AUTH: 'sigv4',
      OBSERVED_OPENSEARCH_SIGV4_SERVICE: 'aoss',
      OBSERVED_OPENSEARCH_COMPRESSION: 'gzip',
      AWS_REGION: 'eu-west-1',
    });
    const exporter = new OpenSearchExporter(options!, {
      log: silentLogger,
      env: { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret-key', AWS_SESSION_TOKEN: 'token' },
    });
    exporter.enqueue(logsPayload([{ ms: DAY1, body: 'signed' }]));
    await exporter.flush(Date.now() + 2_000);
    const [req] = fake.requests;
    const verdict = verifySigV4(
      { method: req.method, rawUrl: req.rawUrl, headers: req.headers, body: req.rawBody },
      { AKIDTEST: 'secret-key' },
    );
    expect(verdict).toMatchObject({ ok: true, scope: expect.stringMatching(/\/eu-west-1\/aoss\/aws4_request$/) });
    expect(req.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(req.headers['x-amz-security-token']).toBe('token');
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(fake.index('otel-logs-2026.11.23').map((d) => d.body)).toEqual(['signed']);
  });

  it('writes spans when a traces index is set, and bounds its queue', async () => {
    const exporter = exporterFor(fake, {
      OBSERVED_OPENSEARCH_TRACES_INDEX: 'otel-spans-%{yyyy.MM}',
      OBSERVED_OPENSEARCH_QUEUE_DOCUMENTS: '10',
    });
    expect(exporter.signals).toEqual(['logs', 'traces']);
    const traces = encodeRequest('traces', {
      resourceSpans: [
        {
          resource: { attributes: toAttributes({ 'service.name': 'orders-api' }) },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: new Uint8Array(16).fill(0xab),
                  spanId: new Uint8Array(8).fill(0xcd),
                  name: 'orders-api',
                  kind: SpanKind.SERVER,
                  startTimeUnixNano: ns(DAY1),
                  endTimeUnixNano: ns(DAY1 + 12),
                  status: { code: StatusCode.ERROR, message: 'boom' },
                  attributes: toAttributes({ 'faas.invocation_id': 'r1' }),
                },
              ],
            },
          ],
        },
      ],
    });
    exporter.enqueue({ signal: 'traces', bytes: traces, items: 1 });
    exporter.enqueue(logsPayload(Array.from({ length: 15 }, (_, i) => ({ ms: DAY1, body: `line ${i}` }))));
    expect(exporter.pendingItems()).toBe(10);
    expect(exporter.stats().documentsDropped).toEqual({ queue_full: 6 });
    await exporter.flush(Date.now() + 2_000);
    expect(fake.index('otel-logs-2026.11.23').map((d) => d.body)).toEqual(
      Array.from({ length: 10 }, (_, i) => `line ${i + 5}`),
    );
    // The span was the oldest document, so the bound dropped it; send another.
    exporter.enqueue({ signal: 'traces', bytes: traces, items: 1 });
    await exporter.flush(Date.now() + 2_000);
    expect(fake.index('otel-spans-2026.11')[0]).toMatchObject({
      traceId: 'ab'.repeat(16),
      spanId: 'cd'.repeat(8),
      parentSpanId: '',
      name: 'orders-api',
      kind: 'SPAN_KIND_SERVER',
      startTime: '2026-11-23T10:00:00.000Z',
      endTime: '2026-11-23T10:00:00.012Z',
      durationInNanos: 12_000_000,
      status: { code: 'Error', message: 'boom' },
      attributes: { 'faas.invocation_id': 'r1' },
      resource: { 'service.name': 'orders-api' },
    });
  });
});

describe('OpenSearch settings and helpers', () => {
  it('picks SigV4 and its service from AWS host names, and names bad values', () => {
    const domain = parseOpenSearchOptions({
      OBSERVED_OPENSEARCH_ENDPOINT: 'https://search-logs-abc.eu-west-1.es.amazonaws.com',
    });
    expect(domain.options?.auth).toEqual({ kind: 'sigv4', service: 'es', region: 'eu-west-1' });
    const serverless = parseOpenSearchOptions({
      OBSERVED_OPENSEARCH_ENDPOINT: 'https://abc123.us-east-1.aoss.amazonaws.com',
    });
    expect(serverless.options?.auth).toEqual({ kind: 'sigv4', service: 'aoss', region: 'us-east-1' });
    const bad = parseOpenSearchOptions({
      OBSERVED_OPENSEARCH_ENDPOINT: 'http://localhost:9200',
      OBSERVED_OPENSEARCH_AUTH: 'kerberos',
      OBSERVED_OPENSEARCH_INDEX: 'Logs-%{yyyy}',
    });
    expect(bad.options?.auth).toEqual({ kind: 'none' });
    expect(bad.warnings.join('\n')).toMatch(/OBSERVED_OPENSEARCH_AUTH=kerberos/);
    expect(bad.warnings.join('\n')).toMatch(/OBSERVED_OPENSEARCH_INDEX=Logs/);
    expect(parseOpenSearchOptions({ OBSERVED_OPENSEARCH_ENDPOINT: 'ftp://x' }).options).toBeUndefined();
    expect(parseOpenSearchOptions({}).options).toBeUndefined();
  });

  it('resolves date patterns in UTC and keeps nanoseconds in timestamps', () => {
    expect(indexName('otel-logs-%{yyyy.MM.dd}', DAY2)).toBe('otel-logs-2026.11.24');
    expect(indexName('logs-%{yy}-%{MM}-%{dd}-%{HH}', DAY1)).toBe('logs-26-11-23-10');
    expect(indexName('plain', DAY1)).toBe('plain');
    expect(isoFromNanos(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
  });
});
