/**
 * The function the `peers` benchmark runs under every layer, and the check of what reached the sink.
 *
 * Per invocation `{ n }` it sends 5 spans, 1 log record and 1 metric data point (a gauge whose integer value is
 * n) to OTEL_EXPORTER_OTLP_ENDPOINT as three OTLP/HTTP JSON requests at once, the way the OTLP JSON mapping
 * writes them (ids in hex, 64-bit integers as decimal strings), then tells the extension it is done in the
 * extension's own way (BENCH_COMPLETION), then returns. `{ ms }` only waits (a busy function for the load test).
 * Every span, record and point carries n, so the sink can tell which arrived, how often and with what value.
 */
import type { OtlpSink } from '../../test/support/otlp-sink.js';

export const SCOPE = 'peers-bench';
export const SPANS_PER_INVOCATION = 5;

export const HANDLER = `const http = require('node:http');
const agent = new http.Agent({ keepAlive: true });
const endpoint = new URL(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
const completion = process.env.BENCH_COMPLETION;
const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'peers-bench-function' } }] };
const scope = { name: '${SCOPE}' };

function post(path, body, headers) {
  return new Promise((resolve) => {
    const req = http.request(
      { host: endpoint.hostname, port: endpoint.port, path, method: 'POST', agent, timeout: 5000, headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const hex = (value, width) => value.toString(16).padStart(width, '0');
const json = (body) => post(body[0], JSON.stringify(body[1]), { 'content-type': 'application/json' });

exports.handler = async (event, context) => {
  if (event.n === undefined) {
    await new Promise((resolve) => setTimeout(resolve, event.ms ?? 0));
  } else {
    const n = event.n;
    const now = BigInt(Date.now()) * 1000000n;
    const traceId = 'b0' + hex(n, 30);
    const spanId = (i) => hex(n, 14) + hex(i + 1, 2);
    const spans = [];
    for (let i = 0; i < ${SPANS_PER_INVOCATION}; i++) {
      spans.push({
        traceId,
        spanId: spanId(i),
        ...(i > 0 ? { parentSpanId: spanId(0) } : {}),
        name: 'span ' + n + '.' + i,
        kind: i === 0 ? 2 : 1,
        startTimeUnixNano: String(now - 1000000n),
        endTimeUnixNano: String(now),
        attributes: [{ key: 'bench.invocation', value: { intValue: String(n) } }],
      });
    }
    const statuses = await Promise.all([
      json(['/v1/traces', { resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] }]),
      json(['/v1/logs', { resourceLogs: [{ resource, scopeLogs: [{ scope, logRecords: [{
        timeUnixNano: String(now), severityNumber: 9, severityText: 'INFO', body: { stringValue: 'log ' + n },
        traceId, spanId: spanId(0),
      }] }] }] }]),
      json(['/v1/metrics', { resourceMetrics: [{ resource, scopeMetrics: [{ scope, metrics: [{
        name: 'bench.invocation', gauge: { dataPoints: [{ timeUnixNano: String(now), asInt: String(n) }] },
      }] }] }] }]),
    ]);
    if (statuses.some((s) => s < 200 || s > 299)) throw new Error('export answered ' + statuses.join(', '));
  }
  if (completion === 'observed-flushed') {
    await post('/observed/v1/flushed', JSON.stringify({ requestId: context.awsRequestId }), { 'content-type': 'application/json' });
  } else if (completion === 'rust-invocation-complete') {
    await post('/invocation/complete', '', { 'lambda-request-id': context.awsRequestId });
  }
  return { ok: true };
};
`;

function idHex(id: unknown): string {
  if (typeof id === 'string') return id.toLowerCase();
  if (id instanceof Uint8Array) return Buffer.from(id).toString('hex');
  return '';
}

interface Tally {
  arrived: number;
  missing: number;
  duplicated: number;
}

/** Counts each expected key's arrivals: missing keys, keys that arrived more than once (extra copies). */
function tally(expected: Iterable<string>, arrivedKeys: string[]): Tally {
  const counts = new Map<string, number>();
  for (const key of expected) counts.set(key, 0);
  for (const key of arrivedKeys) if (counts.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  let missing = 0;
  let duplicated = 0;
  for (const c of counts.values()) {
    if (c === 0) missing++;
    if (c > 1) duplicated += c - 1;
  }
  return { arrived: arrivedKeys.length, missing, duplicated };
}

function describe(what: string, sent: number, t: Tally): string | undefined {
  if (t.missing === 0 && t.duplicated === 0 && t.arrived === sent) return undefined;
  const parts = [`${t.arrived}/${sent} ${what} arrived`];
  if (t.missing > 0) parts.push(`${t.missing} missing`);
  if (t.duplicated > 0) parts.push(`${t.duplicated} duplicated`);
  const other = t.arrived - (sent - t.missing) - t.duplicated;
  if (other > 0) parts.push(`${other} unknown`);
  return parts.join(', ');
}

/**
 * What reached the sink from invocations 1..invocations, checked by id and value: "yes" when every span (by span
 * id and name), log record (by body) and data point (by value) arrived exactly once, else what differs.
 */
export function exactlyOnce(sink: OtlpSink, invocations: number): string {
  const ours = <T extends { scope?: { name?: string } | null }>(list: T[] | null | undefined) =>
    (list ?? []).filter((s) => s.scope?.name === SCOPE);
  const spans = sink
    .requests('traces')
    .flatMap((r) => (r.resourceSpans ?? []).flatMap((rs) => ours(rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])));
  const logs = sink
    .requests('logs')
    .flatMap((r) =>
      (r.resourceLogs ?? []).flatMap((rl) => ours(rl.scopeLogs ?? []).flatMap((sl) => sl.logRecords ?? [])),
    );
  const points = sink
    .requests('metrics')
    .flatMap((r) =>
      (r.resourceMetrics ?? []).flatMap((rm) =>
        ours(rm.scopeMetrics ?? []).flatMap((sm) =>
          (sm.metrics ?? []).filter((m) => m.name === 'bench.invocation').flatMap((m) => m.gauge?.dataPoints ?? []),
        ),
      ),
    );
  const ns = Array.from({ length: invocations }, (_, i) => i + 1);
  const spanKeys = ns.flatMap((n) =>
    Array.from(
      { length: SPANS_PER_INVOCATION },
      (_, i) => `${n.toString(16).padStart(14, '0')}${(i + 1).toString(16).padStart(2, '0')} span ${n}.${i}`,
    ),
  );
  const values = points.map((p) => String(p.asInt ?? p.asDouble ?? 'none'));
  const problems = [
    describe(
      'spans',
      spanKeys.length,
      tally(
        spanKeys,
        spans.map((s) => `${idHex(s.spanId)} ${s.name}`),
      ),
    ),
    describe(
      'log records',
      invocations,
      tally(
        ns.map((n) => `log ${n}`),
        logs.map((l) => String(l.body?.stringValue)),
      ),
    ),
  ].filter((p): p is string => p !== undefined);
  // Points that carry a value no invocation sent are named by that value (a decoding fault), not as lost.
  const valid = new Set(ns.map(String));
  const wrong = new Map<string, number>();
  for (const v of values) if (!valid.has(v)) wrong.set(v, (wrong.get(v) ?? 0) + 1);
  if (wrong.size > 0) {
    const how = [...wrong]
      .map(([v, count]) => `${count} integer values arrive ${v === 'none' ? 'without a value' : `as ${v}`}`)
      .join(', ');
    problems.push(`${values.length}/${invocations} metric points arrived; ${how}`);
  } else {
    const pointProblem = describe('metric points', invocations, tally(ns.map(String), values));
    if (pointProblem) problems.push(pointProblem);
  }
  return problems.length === 0 ? 'yes' : problems.join('; ');
}
