/**
 * Benchmark: OTLP metrics to Prometheus remote write, samples per second per
 * core (CPU time of this process, user + system).
 *
 * - encode: decode the OTLP protobuf request, translate, cut into requests,
 *   encode the WriteRequest and snappy-compress it (the extension's path),
 *   against the npm package `prometheus-remote-write` serializing and
 *   compressing the same, already translated, series (it has no OTLP
 *   translation, so it does less work) through a fetch that answers at once.
 * - http: the same, ending in HTTP POSTs to a loopback server answering 204;
 *   the exporter with its own client, the npm package with `globalThis.fetch`.
 * - collector: the OpenTelemetry Collector (OTLP/HTTP receiver, Prometheus
 *   remote write exporter; built by bench/peers/build-otelcol.sh, skipped when
 *   absent) given the same OTLP requests over HTTP; its own process's CPU time.
 *
 * Run alone: `npx tsx bench/cases/remote-write.ts [--quick]`.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deserialize, pushTimeseries } from 'prometheus-remote-write';
import snappy from 'snappyjs';
import { parseRemoteWriteOptions } from '../../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../../extension-src/exporters/prometheus-remote-write/exporter.js';
import { decodeRequest, encodeRequest } from '../../extension-src/otlp/proto.js';
import type { ExportMetricsServiceRequest, KeyValue, Metric } from '../../extension-src/otlp/types.js';
import { silentLogger } from '../../extension-src/self-telemetry/log.js';
import type { SeriesSample } from '../../extension-src/translate/series.js';
import { PrometheusTranslator } from '../../extension-src/translate/translator.js';
import { CollectorProcess, collectorMissing } from '../peers/otelcol.js';
import { treeUsage } from '../peers/proc-usage.js';

export const title = 'OTLP metrics to Prometheus remote write, samples per CPU-second';

export const notes =
  'Input: OTLP protobuf requests shaped like one busy function flush (776 samples each). `encode`: decode, translate, ' +
  'encode and snappy (the npm package only encodes already translated series); `http`: the same ending in POSTs to a ' +
  'loopback server in the same process; `collector`: the OpenTelemetry Collector process alone (when built).';

export interface BenchResult {
  readonly case: string;
  readonly implementation: string;
  readonly samples: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly samplesPerCpuSecond: number;
}

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/**
 * A request shaped like one busy function's flush: 20 counters, 5 gauges and
 * 10 histograms (10 buckets), each over 5 attribute sets; cumulative.
 */
export function lambdaLikeRequest(timeMs: number): Uint8Array {
  const time = (BigInt(timeMs) * 1_000_000n).toString() as never;
  const start = (BigInt(timeMs - 60_000) * 1_000_000n).toString() as never;
  const attrs = (i: number) => [
    str('http.route', `/api/v1/items/${i}`),
    str('http.request.method', 'GET'),
    str('http.response.status_code', '200'),
  ];
  const metrics: Metric[] = [];
  for (let m = 0; m < 20; m++) {
    metrics.push({
      name: `app.requests.${m}`,
      unit: '{request}',
      description: 'Requests handled',
      sum: {
        isMonotonic: true,
        aggregationTemporality: 2,
        dataPoints: Array.from({ length: 5 }, (_, i) => ({
          attributes: attrs(i),
          startTimeUnixNano: start,
          timeUnixNano: time,
          asInt: 1000 + (timeMs % 1000) + i,
        })),
      },
    });
  }
  for (let m = 0; m < 5; m++) {
    metrics.push({
      name: `app.queue.depth.${m}`,
      gauge: {
        dataPoints: Array.from({ length: 5 }, (_, i) => ({
          attributes: attrs(i),
          timeUnixNano: time,
          asDouble: i * 1.5,
        })),
      },
    });
  }
  for (let m = 0; m < 10; m++) {
    metrics.push({
      name: `app.duration.${m}`,
      unit: 's',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: Array.from({ length: 5 }, (_, i) => ({
          attributes: attrs(i),
          startTimeUnixNano: start,
          timeUnixNano: time,
          count: 110,
          sum: 12.5,
          explicitBounds: BOUNDS,
          bucketCounts: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],
        })),
      },
    });
  }
  const request: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            str('service.name', 'orders-api'),
            str('faas.instance', '2026/11/23/[$LATEST]8f6c0a1b2c3d4e5f'),
            str('faas.name', 'orders-api'),
            str('cloud.region', 'eu-west-1'),
            str('cloud.provider', 'aws'),
          ],
        },
        scopeMetrics: [{ scope: { name: 'orders', version: '1.0.0' }, metrics }],
      },
    ],
  };
  return encodeRequest('metrics', request);
}

function measure(fn: () => number): { samples: number; cpuSeconds: number; wallSeconds: number } {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  const samples = fn();
  const used = process.cpuUsage(cpu);
  return {
    samples,
    cpuSeconds: (used.user + used.system) / 1e6,
    wallSeconds: Number(process.hrtime.bigint() - wall) / 1e9,
  };
}

async function measureAsync(
  fn: () => Promise<number>,
): Promise<{ samples: number; cpuSeconds: number; wallSeconds: number }> {
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  const samples = await fn();
  const used = process.cpuUsage(cpu);
  return {
    samples,
    cpuSeconds: (used.user + used.system) / 1e6,
    wallSeconds: Number(process.hrtime.bigint() - wall) / 1e9,
  };
}

function result(
  caseName: string,
  implementation: string,
  m: { samples: number; cpuSeconds: number; wallSeconds: number },
): BenchResult {
  return { case: caseName, implementation, ...m, samplesPerCpuSecond: Math.round(m.samples / m.cpuSeconds) };
}

/** The npm package's input: series as label objects with samples. */
function asPeerSeries(
  samples: SeriesSample[],
): { labels: { __name__: string; [k: string]: string }; samples: { value: number; timestamp: number }[] }[] {
  return samples.map((s) => ({
    labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])) as { __name__: string },
    samples: [{ value: s.value, timestamp: s.timestampMs }],
  }));
}

function post(url: string, body: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The Collector peer: OTLP/HTTP in, remote write out to a loopback sink that counts samples. */
async function collectorCase(payloads: Uint8Array[], samplesPerPayload: number): Promise<BenchResult | undefined> {
  const missing = collectorMissing();
  if (missing) {
    console.warn(`SKIPPING collector comparison: ${missing}`);
    return undefined;
  }
  let received = 0;
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = snappy.uncompress(Buffer.concat(chunks)) as unknown as ArrayBufferLike;
      const decoded = (await deserialize(body)) as unknown as {
        timeseries: { samples: unknown[] }[];
      };
      for (const ts of decoded.timeseries) received += ts.samples.length;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as AddressInfo).port;
  let collector: CollectorProcess | undefined;
  try {
    collector = await CollectorProcess.start({ remoteWriteUrl: `http://127.0.0.1:${sinkPort}/api/v1/write` });
    const pid = collector.pid;
    const url = `http://127.0.0.1:${collector.otlpPort}/v1/metrics`;
    const until = Date.now() + 30_000;
    const first = await post(url, payloads[0]);
    if (first !== 200) throw new Error(`collector answered ${first}`);
    // The first payload warmed it up; measure the rest once it has been exported.
    while (received < samplesPerPayload && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const before = received;
    const expected = (payloads.length - 1) * samplesPerPayload;
    const cpu = treeUsage(pid).cpuSeconds;
    const wall = process.hrtime.bigint();
    for (const p of payloads.slice(1)) {
      const status = await post(url, p);
      if (status !== 200) throw new Error(`collector answered ${status}`);
    }
    const deadline = Date.now() + 60_000;
    while (received - before < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const m = {
      samples: received - before,
      cpuSeconds: treeUsage(pid).cpuSeconds - cpu,
      wallSeconds: Number(process.hrtime.bigint() - wall) / 1e9,
    };
    return result('collector', 'OpenTelemetry Collector 0.150.0, OTLP/HTTP in, prometheusremotewrite out', m);
  } finally {
    await collector?.stop();
    sink.close();
  }
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const iterations = options.quick ? 100 : 1000;
  const t0 = Date.now() - 3_600_000;
  // Distinct, increasing timestamps, as successive invocations produce.
  const payloads = Array.from({ length: iterations }, (_, i) => lambdaLikeRequest(t0 + i * 100));
  const parsed = parseRemoteWriteOptions({
    OBSERVED_REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write',
    OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '2000',
  });
  if (!parsed.options) throw new Error('options');
  const options_ = parsed.options;
  const results: BenchResult[] = [];

  // --- encode only ---
  const ours = () => {
    const exporter = new RemoteWriteExporter(options_, { log: silentLogger });
    const translator = new PrometheusTranslator(options_.translate);
    let samples = 0;
    for (const bytes of payloads) {
      const translated = translator.translate(decodeRequest('metrics', bytes));
      const series = translated.map((s) => ({ key: s.key, labels: s.labels, family: s.family, points: [s] }));
      const requests = exporter.buildRequests(series);
      for (const r of requests) samples += r.samples;
    }
    return samples;
  };
  ours(); // warm up
  results.push(result('encode', 'observed-lambda (decode + translate + encode + snappy)', measure(ours)));

  const translatedForPeer = payloads.map((bytes) =>
    asPeerSeries(new PrometheusTranslator(options_.translate).translate(decodeRequest('metrics', bytes))),
  );
  const noFetch = async () => ({ status: 204, statusText: 'No Content', text: async () => '' });
  const peer = async () => {
    let samples = 0;
    for (const series of translatedForPeer) {
      await pushTimeseries(series, { url: 'http://127.0.0.1:9/api/v1/write', fetch: noFetch });
      samples += series.length;
    }
    return samples;
  };
  await peer();
  results.push(
    result('encode', 'prometheus-remote-write 0.5.1 (encode + snappy of translated series)', await measureAsync(peer)),
  );

  // --- over HTTP to a loopback server ---
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  try {
    const httpOptions = parseRemoteWriteOptions({
      OBSERVED_REMOTE_WRITE_URL: url,
      OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '2000',
    }).options;
    if (!httpOptions) throw new Error('options');
    const oursHttp = async () => {
      const exporter = new RemoteWriteExporter(httpOptions, { log: silentLogger });
      for (const bytes of payloads) {
        exporter.enqueue({ signal: 'metrics', bytes, items: 175 });
        await exporter.flush(Date.now() + 10_000);
      }
      const stats = exporter.stats();
      if (Object.keys(stats.samplesDropped).length > 0)
        throw new Error(`drops: ${JSON.stringify(stats.samplesDropped)}`);
      return stats.samplesSent;
    };
    await oursHttp();
    results.push(result('http', 'observed-lambda exporter (one flush per OTLP request)', await measureAsync(oursHttp)));
    const peerHttp = async () => {
      let samples = 0;
      for (const series of translatedForPeer) {
        const r = await pushTimeseries(series, { url, fetch: globalThis.fetch as never });
        if (r.status !== 204) throw new Error(`status ${r.status}`);
        samples += series.length;
      }
      return samples;
    };
    await peerHttp();
    results.push(
      result(
        'http',
        'prometheus-remote-write 0.5.1 with globalThis.fetch (translated series)',
        await measureAsync(peerHttp),
      ),
    );
  } finally {
    server.close();
  }
  const samplesPerPayload = new PrometheusTranslator(options_.translate).translate(
    decodeRequest('metrics', payloads[0]),
  ).length;
  const collector = await collectorCase(payloads, samplesPerPayload);
  if (collector) results.push(collector);
  return results;
}

if (require.main === module) {
  run({ quick: process.argv.includes('--quick') }).then((results) => {
    for (const r of results) {
      console.log(
        `${r.case.padEnd(7)} ${r.implementation.padEnd(76)} ${String(r.samplesPerCpuSecond).padStart(9)} samples/s/core  (${r.samples} samples, cpu ${r.cpuSeconds.toFixed(2)} s, wall ${r.wallSeconds.toFixed(2)} s)`,
      );
    }
  });
}
