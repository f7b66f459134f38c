/**
 * Delivery behaviour of the remote write exporter against a scripted endpoint:
 * retries on 5xx and 429 (honouring Retry-After), drops with a counter and one
 * log line on other 4xx, keeps data for the next flush when the deadline comes
 * first, splits requests below the configured limits, and sends the headers
 * remote write 1.0 requires.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRemoteWriteOptions } from '../../../../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../../../../extension-src/exporters/prometheus-remote-write/exporter.js';
import { BackendHealth } from '../../../../extension-src/exporters/transport/retrying.js';
import { encodeRequest } from '../../../../extension-src/otlp/proto.js';
import type { ExportMetricsServiceRequest } from '../../../../extension-src/otlp/types.js';
import { createLogger, silentLogger } from '../../../../extension-src/self-telemetry/log.js';
import { version } from '../../../../package.json';
import { verifySigV4 } from '../../../support/sigv4-verifier.js';
import { type Answer, type DecodedWrite, ScriptedRemoteWrite } from './remote-write-server.js';

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;

/** One OTLP request with `series` gauge series, each one point at `timeMs`. */
/** The `worker` label of each series that got a staleness marker in these requests, sorted. */
function staleWorkers(attempts: ScriptedRemoteWrite['attempts']): (string | undefined)[] {
  return attempts
    .flatMap((a) => a.body.timeseries)
    .filter((ts) => ts.samples?.some((x) => Number.isNaN(x.value)))
    .map((ts) => ts.labels.find((l) => l.name === 'worker')?.value)
    .sort();
}

function gauges(series: number, timeMs: number, value = 1, workerPrefix = 'w'): Uint8Array {
  const request: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'load',
                gauge: {
                  dataPoints: Array.from({ length: series }, (_, i) => ({
                    timeUnixNano: ns(timeMs),
                    asDouble: value + i,
                    attributes: [{ key: 'worker', value: { stringValue: `${workerPrefix}${i}` } }],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return encodeRequest('metrics', request);
}

describe('remote write delivery', () => {
  let server: ScriptedRemoteWrite | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  function exporter(
    url: string,
    env: Record<string, string> = {},
    logs: string[] = [],
    health = new BackendHealth(0, 0),
  ): RemoteWriteExporter {
    const parsed = parseRemoteWriteOptions({
      OBSERVED_REMOTE_WRITE_URL: url,
      OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
      ...env,
    });
    if (!parsed.options) throw new Error(parsed.warnings.join('\n'));
    return new RemoteWriteExporter(parsed.options, {
      log: createLogger('debug', (line) => logs.push(line)),
      retry: { initialMs: 20 },
      health,
    });
  }

  it('retries 500, waits for 429 Retry-After, then counts exactly the series a 400 refuses, with one log line', async () => {
    const script: Answer[] = [
      { status: 500, body: 'internal' },
      { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' },
      { status: 204 },
    ];
    const worker = (ts: DecodedWrite['timeseries'][number]) => ts.labels.find((l) => l.name === 'worker')?.value;
    // Then like Cortex: a request holding series w1 is answered 400, and its other series are stored.
    const refuses = (body: DecodedWrite) => body.timeseries.some((ts) => worker(ts) === 'w1');
    server = await new ScriptedRemoteWrite(
      (n, body) => script[n] ?? (refuses(body) ? { status: 400, body: 'out of order sample' } : { status: 204 }),
    ).start();
    const logs: string[] = [];
    const rw = exporter(server.url, {}, logs);
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(3, t0), items: 3 });
    await rw.flush(Date.now() + 10_000);
    expect(server.attempts).toHaveLength(3);
    // The same request three times: the first two failed retryably.
    expect(server.samplesIn([server.attempts[2]])).toBe(3);
    expect(server.attempts[2].body).toEqual(server.attempts[0].body);
    expect(server.attempts[2].at - server.attempts[1].at).toBeGreaterThanOrEqual(950);
    expect(rw.stats()).toMatchObject({ samplesSent: 3, requestsRetried: 2, samplesDropped: {} });

    server.attempts.length = 3;
    rw.enqueue({ signal: 'metrics', bytes: gauges(3, t0 + 1000), items: 3 });
    await rw.flush(Date.now() + 10_000);
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, t0 + 2000), items: 2 });
    await rw.flush(Date.now() + 10_000);
    const later = server.attempts.slice(3);
    // A refused request is never sent again whole; its parts are, until w1 stands alone.
    for (const [i, attempt] of later.entries()) {
      if (!refuses(attempt.body) || attempt.body.timeseries.length === 1) continue;
      expect(later.slice(i + 1).some((a) => a.rawBody.equals(attempt.rawBody))).toBe(false);
    }
    const stored = later.filter((a) => !refuses(a.body)).flatMap((a) => a.body.timeseries.map(worker));
    expect(stored.sort()).toEqual(['w0', 'w0', 'w2']);
    expect(rw.stats()).toMatchObject({ samplesSent: 3 + 3, samplesDropped: { rejected_out_of_order: 2 } });
    expect(rw.pendingItems()).toBe(0);
    const rejections = logs.filter((l) => l.includes('rejected'));
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatch(/dropped 1 sample\(s\), rejected_out_of_order: HTTP 400 .*out of order sample/);
  });

  it('a 403 refuses the whole request: counted once, not cut into parts', async () => {
    server = await new ScriptedRemoteWrite(() => ({ status: 403, body: 'forbidden' })).start();
    const rw = exporter(server.url);
    rw.enqueue({ signal: 'metrics', bytes: gauges(3, Date.now() - 10_000), items: 3 });
    await rw.flush(Date.now() + 10_000);
    expect(server.attempts).toHaveLength(1);
    expect(rw.stats()).toMatchObject({ samplesSent: 0, samplesDropped: { rejected: 3 } });
  });

  it('a series the backend refused gets no staleness marker at SHUTDOWN; the others do', async () => {
    const worker = (ts: DecodedWrite['timeseries'][number]) => ts.labels.find((l) => l.name === 'worker')?.value;
    server = await new ScriptedRemoteWrite((_n, body) =>
      body.timeseries.some((ts) => worker(ts) === 'w2')
        ? { status: 400, body: 'label value too long for metric (actual: 3000, limit: 2048)' }
        : { status: 204 },
    ).start();
    const rw = exporter(server.url);
    rw.enqueue({ signal: 'metrics', bytes: gauges(4, Date.now() - 10_000), items: 4 });
    await rw.flush(Date.now() + 10_000);
    const before = server.attempts.length;
    await rw.shutdown(Date.now() + 5_000);
    expect(staleWorkers(server.attempts.slice(before))).toEqual(['w0', 'w1', 'w3']);
    expect(rw.stats()).toMatchObject({
      samplesSent: 3,
      samplesDropped: { rejected_label_limit: 1 },
      staleMarkersSent: 3,
      staleMarkersDropped: 0,
    });
  });

  it('429 for the series limit is refused at once, not retried; 429 for a rate the request fits in is retried', async () => {
    const answers: Answer[] = [
      { status: 429, body: 'user=t: per-user series limit of 5 exceeded, please contact administrator' },
      { status: 429, body: 'ingestion rate limit (1000) exceeded while adding 2 samples and 1 metadata' },
      { status: 204 },
    ];
    server = await new ScriptedRemoteWrite((n) => answers[n] ?? { status: 204 }).start();
    const rw = exporter(server.url);
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, Date.now() - 10_000), items: 1 });
    await rw.flush(Date.now() + 10_000);
    expect(server.attempts).toHaveLength(1);
    expect(rw.stats()).toMatchObject({ samplesDropped: { rejected_series_limit: 1 }, requestsRetried: 0 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, Date.now() - 5_000), items: 2 });
    await rw.flush(Date.now() + 10_000);
    expect(server.attempts).toHaveLength(3);
    expect(server.attempts[2].body).toEqual(server.attempts[1].body);
    expect(rw.stats()).toMatchObject({ samplesSent: 2, requestsRetried: 1 });
  });

  it('a request larger than the ingestion rate the backend names is cut to that size, and so are later ones', async () => {
    const limit = 3;
    const samples = (body: DecodedWrite) => body.timeseries.reduce((n, ts) => n + (ts.samples?.length ?? 0), 0);
    server = await new ScriptedRemoteWrite((_n, body) =>
      samples(body) > limit
        ? {
            status: 429,
            body: `ingestion rate limit (${limit}) exceeded while adding ${samples(body)} samples and 1 metadata`,
          }
        : { status: 204 },
    ).start();
    const logs: string[] = [];
    const rw = exporter(server.url, {}, logs);
    rw.enqueue({ signal: 'metrics', bytes: gauges(10, Date.now() - 10_000), items: 10 });
    await rw.flush(Date.now() + 10_000);
    expect(rw.stats()).toMatchObject({ samplesSent: 10, samplesDropped: {} });
    const before = server.attempts.length;
    rw.enqueue({ signal: 'metrics', bytes: gauges(10, Date.now() - 5_000), items: 10 });
    await rw.flush(Date.now() + 10_000);
    // Learned: no request over the limit any more (the 10 samples go in 4 send shards of at most 3).
    const sizes = server.attempts.slice(before).map((a) => samples(a.body));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(limit);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(rw.stats()).toMatchObject({ samplesSent: 20, samplesDropped: {} });
    expect(logs.filter((l) => l.includes('ingestion rate limit'))).toEqual([
      expect.stringMatching(/requests are cut to at most 3 samples .*raise the workspace's ingestion rate/),
    ]);
  });

  it('samples held back by the ingestion rate limit at SHUTDOWN are dropped as rate_limited', async () => {
    server = await new ScriptedRemoteWrite(() => ({
      status: 429,
      body: 'ingestion rate limit (100) exceeded while adding 2 samples and 0 metadata',
    })).start();
    const rw = exporter(server.url);
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, Date.now() - 10_000), items: 2 });
    await rw.flush(Date.now() + 300);
    expect(rw.pendingItems()).toBe(2);
    await rw.shutdown(Date.now() + 300);
    expect(rw.stats().samplesDropped).toEqual({ rate_limited: 2 });
  });

  it('a series whose labels exceed OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES (7,168 by default) is dropped and counted, not sent', async () => {
    server = await new ScriptedRemoteWrite().start();
    const logs: string[] = [];
    const rw = exporter(server.url, {}, logs);
    // 8 labels of 1,000 bytes: within the 2,048-byte value limit, over the 7,168-byte total.
    const long = Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'x'.repeat(1000) } }));
    const t = ns(Date.now() - 10_000);
    const bytes = encodeRequest('metrics', {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'wide',
                  gauge: {
                    dataPoints: [
                      { timeUnixNano: t, asDouble: 1, attributes: long },
                      { timeUnixNano: t, asDouble: 2, attributes: long.slice(0, 6) },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    rw.enqueue({ signal: 'metrics', bytes, items: 2 });
    await rw.flush(Date.now() + 5_000);
    expect(server.attempts.flatMap((a) => a.body.timeseries)).toHaveLength(1);
    expect(rw.stats()).toMatchObject({ samplesSent: 1, samplesDropped: { labels_too_large: 1 } });
    expect(logs).toContainEqual(expect.stringMatching(/more than 7168 \(OBSERVED_REMOTE_WRITE_MAX_LABELS_BYTES\)/));
  });

  it('keeps samples queued when the deadline comes first, and sends them in order later', async () => {
    let failing = true;
    server = await new ScriptedRemoteWrite(() => (failing ? { status: 503 } : { status: 204 })).start();
    const rw = exporter(server.url);
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, t0, 10), items: 2 });
    await rw.flush(Date.now() + 300);
    expect(rw.pendingItems()).toBe(2);
    expect(rw.stats().samplesDropped).toEqual({});
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, t0 + 1000, 20), items: 2 });
    failing = false;
    await rw.flush(Date.now() + 5_000);
    expect(rw.pendingItems()).toBe(0);
    const delivered = server.attempts[server.attempts.length - 1].body;
    const w0 = delivered.timeseries.find((ts) => ts.labels.some((l) => l.value === 'w0'));
    expect(w0?.samples).toEqual([
      { value: 10, timestamp: t0 },
      { value: 20, timestamp: t0 + 1000 },
    ]);
    expect(rw.stats().samplesSent).toBe(4);
  });

  it('after a flush that ran out of time, skips a dead backend for a while, then probes it once', async () => {
    server = await new ScriptedRemoteWrite(() => ({ status: 503 })).start();
    const rw = exporter(server.url, {}, [], new BackendHealth(1_000, 30_000));
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, Date.now() - 10_000), items: 1 });
    await rw.flush(Date.now() + 200);
    const attemptsFirst = server.attempts.length;
    expect(attemptsFirst).toBeGreaterThan(1);
    // Within the cool-down the next invocations' flushes cost nothing.
    await rw.flush(Date.now() + 200);
    expect(server.attempts.length).toBe(attemptsFirst);
    await new Promise((r) => setTimeout(r, 1_100));
    await rw.flush(Date.now() + 2_000);
    expect(server.attempts.length).toBe(attemptsFirst + 1);
    expect(rw.pendingItems()).toBe(1);
    // SHUTDOWN tries regardless, and counts what it could not deliver.
    await rw.shutdown(Date.now() + 300);
    expect(rw.stats().samplesDropped.shutdown).toBeGreaterThanOrEqual(1);
  });

  it('samples of a request the backend stored but answered too late, then pushed out of the full queue, count as unconfirmed', async () => {
    // The first request is stored on arrival and answered after the flush deadline, as a loaded backend does.
    server = await new ScriptedRemoteWrite((n) => (n === 0 ? { status: 204, afterMs: 500 } : { status: 204 })).start();
    const rw = exporter(server.url, {
      OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '5',
      OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES: '5',
    });
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(5, t0, 1, 'old'), items: 5 });
    await rw.flush(Date.now() + 200);
    expect(server.attempts).toHaveLength(1);
    expect(rw.pendingItems()).toBe(5);
    // Newer series fill the queue: the oldest (those of the unanswered request) leave it.
    rw.enqueue({ signal: 'metrics', bytes: gauges(5, t0 + 1_000, 1, 'new'), items: 5 });
    await rw.flush(Date.now() + 5_000);
    const stored = server.samplesIn(server.attempts);
    expect(stored).toBe(10);
    const stats = rw.stats();
    expect(stats.samplesSent).toBe(5);
    // Not queue_full: the backend may well have them (here it has), so they are not reported as lost.
    expect(stats.samplesDropped).toEqual({ unconfirmed: 5 });
    // What arrived and what was lost for certain add up to what was taken in: nothing counted twice.
    const { unconfirmed: _mayHaveArrived, ...lost } = stats.samplesDropped;
    expect(stored + Object.values(lost).reduce((a, b) => a + b, 0)).toBe(stats.pointsReceived);
  });

  it('a request unanswered at SHUTDOWN stays pending until then, and is counted dropped, not lost', async () => {
    const sockets = new Set<Socket>();
    let requests = 0;
    const hanging = createServer((req) => {
      requests++;
      req.resume();
    });
    hanging.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/api/v1/write`;
      const rw = exporter(url);
      rw.enqueue({ signal: 'metrics', bytes: gauges(5, Date.now() - 10_000), items: 5 });
      const flushing = rw.flush(Date.now() + 1_500);
      const until = Date.now() + 5_000;
      while (requests === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      expect(requests).toBe(1);
      // On the wire, not yet delivered: still pending.
      expect(rw.pendingItems()).toBe(5);
      const shutdown = rw.shutdown(Date.now() + 200);
      // From SHUTDOWN on, the exit totals may be read at any moment: they already add up.
      expect(rw.stats().samplesDropped.shutdown).toBe(5);
      await shutdown;
      const stats = rw.stats();
      expect(stats.samplesDropped).toEqual({ shutdown: 5 });
      expect(stats.samplesSent).toBe(0);
      // Staleness markers are not the function's samples: counted apart.
      expect(stats.staleMarkersDropped).toBe(5);
      expect(rw.pendingItems()).toBe(0);
      for (const s of sockets) s.destroy();
      await flushing;
      expect(rw.stats().samplesDropped).toEqual({ shutdown: 5 });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hanging.close(r));
    }
  });

  it('remembers at most OBSERVED_REMOTE_WRITE_STALE_SERIES series: staleness markers for the most recent, the rest counted', async () => {
    server = await new ScriptedRemoteWrite().start();
    const rw = exporter(server.url, { OBSERVED_REMOTE_WRITE_STALE_SERIES: '3' });
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(5, t0), items: 5 });
    // w0 and w1 again: with w4 the three most recently written (w0 and w1 were forgotten once, then w2 and w3).
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, t0 + 1), items: 2 });
    await rw.flush(Date.now() + 5_000);
    const before = server.attempts.length;
    await rw.shutdown(Date.now() + 5_000);
    const markers = staleWorkers(server.attempts.slice(before));
    expect(markers).toEqual(['w0', 'w1', 'w4']);
    const stats = rw.stats();
    expect(stats.staleMarkersSent).toBe(3);
    expect(stats.seriesForgotten).toBe(4);
    expect(stats.samplesSent).toBe(7);
  });

  it('forgets the least recently written series first, counting a series written again as recent', async () => {
    server = await new ScriptedRemoteWrite().start();
    const rw = exporter(server.url, { OBSERVED_REMOTE_WRITE_STALE_SERIES: '3' });
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, t0, 1, 'a'), items: 2 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, t0, 1, 'b'), items: 1 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, t0 + 1, 1, 'a'), items: 1 }); // a0 again
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, t0, 1, 'c'), items: 1 }); // one over the bound: a1 goes
    await rw.flush(Date.now() + 5_000);
    const before = server.attempts.length;
    await rw.shutdown(Date.now() + 5_000);
    const markers = staleWorkers(server.attempts.slice(before));
    expect(markers).toEqual(['a0', 'b0', 'c0']);
    expect(rw.stats().seriesForgotten).toBe(1);
    expect(rw.stats().samplesSent).toBe(5);
  });

  it('bounds the queue in bytes too (OBSERVED_REMOTE_WRITE_QUEUE_BYTES): long label sets are dropped oldest first, counted', () => {
    const rw = exporter('http://127.0.0.1:9/api/v1/write', { OBSERVED_REMOTE_WRITE_QUEUE_BYTES: '65536' });
    const t0 = Date.now() - 10_000;
    // 100 series whose label values are 2 kB each (the default value limit): about 4 kB per series queued.
    rw.enqueue({ signal: 'metrics', bytes: gauges(100, t0, 1, 'x'.repeat(2_000)), items: 100 });
    const pending = rw.pendingItems();
    expect(pending).toBeGreaterThan(0);
    expect(pending).toBeLessThan(20);
    expect(rw.stats().samplesDropped.queue_full).toBe(100 - pending);
  });

  it('splits requests below the sample and byte limits and sends remote write 1.0 headers', async () => {
    server = await new ScriptedRemoteWrite().start();
    const rw = exporter(server.url, {
      OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '40',
      OBSERVED_REMOTE_WRITE_MAX_BYTES: '4096',
    });
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(100, t0), items: 100 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(100, t0 + 1), items: 100 });
    await rw.flush(Date.now() + 10_000);
    expect(server.samplesIn(server.attempts)).toBe(200);
    for (const a of server.attempts) {
      expect(server.samplesIn([a])).toBeLessThanOrEqual(40);
      expect(a.uncompressedBytes).toBeLessThanOrEqual(4096);
      expect(a.headers).toMatchObject({
        'content-encoding': 'snappy',
        'content-type': 'application/x-protobuf',
        'x-prometheus-remote-write-version': '0.1.0',
        'user-agent': `observed-lambda/${version}`,
      });
      expect(a.body.metadata).toEqual([{ type: 2, metricFamilyName: 'load' }]);
      for (const ts of a.body.timeseries) {
        const names = ts.labels.map((l) => l.name);
        expect(names).toEqual([...names].sort());
      }
    }
    // Each series' two samples arrive in time order, even across requests.
    const seen = new Map<string, number[]>();
    for (const a of server.attempts) {
      for (const ts of a.body.timeseries) {
        const key = JSON.stringify(ts.labels);
        seen.set(key, [...(seen.get(key) ?? []), ...(ts.samples ?? []).map((s) => s.timestamp)]);
      }
    }
    expect(seen.size).toBe(100);
    for (const times of seen.values()) expect(times).toEqual([t0, t0 + 1]);
  });

  it('signs requests to AMP with SigV4 (service aps) using the environment credentials', async () => {
    server = await new ScriptedRemoteWrite().start();
    const parsed = parseRemoteWriteOptions({
      OBSERVED_REMOTE_WRITE_URL: server.url,
      OBSERVED_REMOTE_WRITE_SIGV4: 'true',
      AWS_REGION: 'eu-west-1',
    });
    if (!parsed.options) throw new Error('options');
    const env = { AWS_ACCESS_KEY_ID: 'ASIATEST', AWS_SECRET_ACCESS_KEY: 'sekret', AWS_SESSION_TOKEN: 'session' };
    const rw = new RemoteWriteExporter(parsed.options, { log: silentLogger, env });
    rw.enqueue({ signal: 'metrics', bytes: gauges(2, Date.now() - 1000), items: 2 });
    await rw.flush(Date.now() + 5_000);
    expect(server.attempts).toHaveLength(1);
    const a = server.attempts[0];
    expect(a.headers['x-amz-security-token']).toBe('session');
    const received = { method: 'POST', rawUrl: new URL(server.url).pathname, headers: a.headers, body: a.rawBody };
    expect(verifySigV4(received, { ASIATEST: 'sekret' })).toMatchObject({
      ok: true,
      scope: expect.stringContaining('/eu-west-1/aps/'),
    });
  });

  it('drops the oldest samples beyond the queue bound and says so', async () => {
    server = await new ScriptedRemoteWrite().start();
    const logs: string[] = [];
    const rw = exporter(
      server.url,
      { OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES: '1000', OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '500' },
      logs,
    );
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(800, t0), items: 800 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(800, t0 + 1), items: 800 });
    expect(rw.pendingItems()).toBeLessThanOrEqual(1000);
    const dropped = rw.stats().samplesDropped.queue_full;
    expect(dropped).toBe(1600 - rw.pendingItems());
    await rw.flush(Date.now() + 10_000);
    expect(server.samplesIn(server.attempts) + dropped).toBe(1600);
    expect(logs.some((l) => l.includes('OBSERVED_REMOTE_WRITE_QUEUE_SAMPLES'))).toBe(true);
  });

  it('counts out-of-order and undecodable input instead of sending it', async () => {
    server = await new ScriptedRemoteWrite().start();
    const rw = exporter(server.url);
    const t0 = Date.now() - 10_000;
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, t0 + 1000), items: 1 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, t0), items: 1 });
    rw.enqueue({ signal: 'metrics', bytes: gauges(1, t0 + 1000), items: 1 });
    rw.enqueue({ signal: 'metrics', bytes: new Uint8Array([0x0a, 0xff, 0xff]), items: 4 });
    await rw.flush(Date.now() + 10_000);
    expect(rw.stats().samplesDropped).toEqual({ out_of_order: 1, duplicate_timestamp: 1, undecodable: 4 });
    expect(server.samplesIn(server.attempts)).toBe(1);
  });

  it('sends a full queue before any flush, several requests at once, each series in time order', async () => {
    server = await new ScriptedRemoteWrite().start();
    const rw = exporter(server.url, { OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '50' });
    const t0 = Date.now() - 60_000;
    // 100 series, 3 points each: 300 samples, more than four requests' worth.
    for (let k = 0; k < 3; k++) rw.enqueue({ signal: 'metrics', bytes: gauges(100, t0 + k * 1000), items: 100 });
    const until = Date.now() + 5_000;
    // 200 samples (four requests' worth) were queued by the second payload: they leave without a flush.
    while (server.attempts.length < 4 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(server.attempts.length).toBeGreaterThanOrEqual(4);
    await rw.flush(Date.now() + 5_000);
    expect(rw.pendingItems()).toBe(0);
    expect(server.samplesIn(server.attempts)).toBe(300);
    // In the order the requests arrived, every series' timestamps only go forward.
    const last = new Map<string, number>();
    for (const attempt of server.attempts) {
      for (const ts of attempt.body.timeseries) {
        const key = JSON.stringify(ts.labels);
        for (const sample of ts.samples ?? []) {
          expect(sample.timestamp).toBeGreaterThan(last.get(key) ?? 0);
          last.set(key, sample.timestamp);
        }
      }
    }
    expect(last.size).toBe(100);
    expect(rw.stats().samplesSent).toBe(300);
  });
});
