/**
 * The Pushgateway exporter against a real Pushgateway: metrics recorded with
 * the OpenTelemetry SDK over several invocations (delta temporality, so the
 * exporter must keep running totals) appear under the environment's grouping
 * key with the right types and values; the text format escapes what it must;
 * the group can be deleted at shutdown.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePushgatewayOptions } from '../../../extension-src/exporters/pushgateway/config.js';
import { groupingSegment, PushgatewayExporter } from '../../../extension-src/exporters/pushgateway/exporter.js';
import { renderText } from '../../../extension-src/exporters/pushgateway/text-format.js';
import type { Metric } from '../../../extension-src/otlp/types.js';
import { silentLogger } from '../../../extension-src/self-telemetry/log.js';
import { findBinary, requireBinary } from '../../support/binaries.js';
import { PushgatewayServer } from '../../support/prometheus.js';
import { sum } from './prometheus-remote-write/expected.js';
import { metricsPayload, nanos, stringResource } from './prometheus-remote-write/metrics-request.js';
import { SdkFunction, sleep } from './prometheus-remote-write/sdk-harness.js';
import { find, parseText } from './prometheus-remote-write/text-parse.js';

const available =
  findBinary('prometheus-pushgateway') !== undefined || requireBinary('prometheus-pushgateway') !== undefined;
const BOUNDS = [0.1, 0.5, 1];
const SVC = stringResource({ 'service.name': 'svc' });

describe('grouping key path', () => {
  it('uses base64url for values with slashes and "=" for empty values, as the Pushgateway documents', () => {
    expect(groupingSegment('job', 'checkout')).toBe('/job/checkout');
    expect(groupingSegment('job', 'shop/checkout')).toBe(
      `/job@base64/${Buffer.from('shop/checkout').toString('base64url')}`,
    );
    expect(groupingSegment('instance', '')).toBe('/instance@base64/=');
  });

  it('renders families once each, with escaped label values and help', () => {
    const family = { name: 'odd_total', type: 'counter' as const, help: 'a \\ b\nc', unit: '' };
    const text = renderText([
      {
        family,
        labels: [
          { name: '__name__', value: 'odd_total' },
          { name: 'v', value: 'q"b\\n\n' },
        ],
        value: 1,
      },
      {
        family,
        labels: [
          { name: '__name__', value: 'odd_total' },
          { name: 'v', value: 'x' },
        ],
        value: 2,
      },
    ]);
    expect(text).toBe(
      '# HELP odd_total a \\\\ b\\nc\n# TYPE odd_total counter\nodd_total{v="q\\"b\\\\n\\n"} 1\nodd_total{v="x"} 2\n',
    );
  });
});

describe('Pushgateway exporter accounting', () => {
  it('samples not pushed by the end of SHUTDOWN are counted as dropped, also while a push is unanswered', async () => {
    let requests = 0;
    const hanging = createServer((req) => {
      requests++;
      req.resume();
    });
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    try {
      const parsed = parsePushgatewayOptions({
        OBSERVED_PUSHGATEWAY_URL: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
      });
      if (!parsed.options) throw new Error(parsed.warnings.join('\n'));
      const exporter = new PushgatewayExporter(parsed.options, { log: silentLogger });
      const t = Date.now();
      const dataPoints = [1, 2, 3].map((i) => ({
        timeUnixNano: nanos(t),
        asDouble: i,
        attributes: [{ key: 'i', value: { stringValue: String(i) } }],
      }));
      exporter.enqueue(metricsPayload(SVC, [{ name: 'load', gauge: { dataPoints } }]));
      const pending = exporter.pendingItems();
      expect(pending).toBeGreaterThanOrEqual(3);
      const flushing = exporter.flush(Date.now() + 1_000);
      const until = Date.now() + 5_000;
      while (requests === 0 && Date.now() < until) await sleep(5);
      expect(exporter.pendingItems()).toBe(pending);
      const shutdown = exporter.shutdown(Date.now() + 200);
      expect(exporter.stats().samplesDropped.shutdown).toBe(pending);
      await shutdown;
      expect(exporter.pendingItems()).toBe(0);
      expect(exporter.stats().samplesDropped).toEqual({ shutdown: pending });
      await flushing;
      expect(exporter.stats().samplesDropped).toEqual({ shutdown: pending });
      expect(exporter.stats().pushes).toBe(0);
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  });
});

describe('Pushgateway exporter bounds', () => {
  it('keeps at most OBSERVED_PUSHGATEWAY_MAX_SERIES series: the least recently updated leave the group, counted', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const parsed = parsePushgatewayOptions({
        OBSERVED_PUSHGATEWAY_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        OBSERVED_PUSHGATEWAY_MAX_SERIES: '2',
        OBSERVED_PROMETHEUS_TARGET_INFO: 'false',
      });
      if (!parsed.options) throw new Error(parsed.warnings.join('\n'));
      const exporter = new PushgatewayExporter(parsed.options, { log: silentLogger });
      const t = Date.now();
      const dataPoints = ['a', 'b', 'c'].map((w, i) => ({
        timeUnixNano: nanos(t + i),
        asDouble: i,
        attributes: [{ key: 'worker', value: { stringValue: w } }],
      }));
      exporter.enqueue(metricsPayload(SVC, [{ name: 'load', gauge: { dataPoints } }]));
      await exporter.flush(Date.now() + 5_000);
      expect(exporter.stats().seriesForgotten).toBe(1);
      expect(bodies).toHaveLength(1);
      const workers = [...bodies[0].matchAll(/worker="(\w)"/g)].map((m) => m[1]).sort();
      expect(workers).toEqual(['b', 'c']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe.skipIf(!available)('Pushgateway export to a real Pushgateway', () => {
  let gateway: PushgatewayServer;

  beforeAll(async () => {
    gateway = (await PushgatewayServer.start()) as PushgatewayServer;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  function exporterFor(extra: Record<string, string> = {}): PushgatewayExporter {
    const parsed = parsePushgatewayOptions({ OBSERVED_PUSHGATEWAY_URL: gateway.url, ...extra });
    expect(parsed.warnings).toEqual([]);
    if (!parsed.options) throw new Error('pushgateway options missing');
    return new PushgatewayExporter(parsed.options);
  }

  it('pushes the full current state of every family after each invocation', async () => {
    const instance = 'env-push-1';
    const fn = await SdkFunction.start({
      temporality: 'delta',
      resource: {
        'service.name': 'checkout',
        'service.namespace': 'shop',
        'service.instance.id': instance,
        'cloud.region': 'eu-west-1',
      },
    });
    const exporter = exporterFor();
    const requests = fn.meter.createCounter('http.requests', { description: 'Requests "served"\nby route' });
    const depth = fn.meter.createUpDownCounter('queue.depth');
    const temperature = fn.meter.createGauge('room.temperature', { unit: 'Cel' });
    const duration = fn.meter.createHistogram('request.duration', {
      unit: 's',
      advice: { explicitBucketBoundaries: BOUNDS },
    });
    const routeValues: Record<string, number[]> = { '/a': [], 'we"ird\\route': [] };
    const depthChanges: number[] = [];
    const durations: number[] = [];
    let lastTemperature = 0;
    for (let i = 0; i < 4; i++) {
      for (const route of Object.keys(routeValues)) {
        const n = i + (route === '/a' ? 1 : 3);
        requests.add(n, { 'http.route': route });
        routeValues[route].push(n);
      }
      depth.add(i % 2 === 0 ? 4 : -1);
      depthChanges.push(i % 2 === 0 ? 4 : -1);
      lastTemperature = 20 + i / 4;
      temperature.record(lastTemperature);
      for (const d of [0.05, 0.25 * (i + 1), 2]) {
        duration.record(d);
        durations.push(d);
      }
      for (const p of await fn.flush()) exporter.enqueue(p);
      await exporter.flush(Date.now() + 10_000);
      expect(exporter.pendingItems()).toBe(0);
      await sleep(5);
    }
    expect(exporter.stats().samplesDropped).toEqual({});

    const parsed = parseText(await gateway.metricsText());
    const group = { job: 'shop/checkout', instance };
    expect(parsed.types).toMatchObject({
      http_requests_total: 'counter',
      queue_depth: 'gauge',
      room_temperature_celsius: 'gauge',
      request_duration_seconds: 'histogram',
      target_info: 'gauge',
    });
    expect(find(parsed, 'target_info', { ...group, cloud_region: 'eu-west-1' }).map((s) => s.value)).toEqual([1]);
    expect(parsed.help.http_requests_total).toBe('Requests "served"\nby route');
    for (const [route, values] of Object.entries(routeValues)) {
      expect(find(parsed, 'http_requests_total', { ...group, http_route: route }).map((s) => s.value)).toEqual([
        sum(values),
      ]);
    }
    expect(find(parsed, 'queue_depth', group).map((s) => s.value)).toEqual([sum(depthChanges)]);
    expect(find(parsed, 'room_temperature_celsius', group).map((s) => s.value)).toEqual([lastTemperature]);
    expect(find(parsed, 'request_duration_seconds_count', group).map((s) => s.value)).toEqual([durations.length]);
    expect(find(parsed, 'request_duration_seconds_sum', group).map((s) => s.value)).toEqual([sum(durations)]);
    for (const le of [...BOUNDS, Number.POSITIVE_INFINITY]) {
      const label = le === Number.POSITIVE_INFINITY ? '+Inf' : String(le);
      expect(find(parsed, 'request_duration_seconds_bucket', { ...group, le: label }).map((s) => s.value)).toEqual([
        durations.filter((d) => d <= le).length,
      ]);
    }
    await exporter.shutdown(Date.now() + 5_000);
    // Without OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN the last state stays.
    expect(find(parseText(await gateway.metricsText()), 'queue_depth', group)).toHaveLength(1);
    await fn.shutdown();
  });

  it('pushes summaries and deletes the group at shutdown when asked to', async () => {
    const exporter = exporterFor({ OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN: 'true' });
    const resource = stringResource({ 'service.name': 'legacy', 'faas.instance': '2026/11/23/[$LATEST]0f0e' });
    const quantiles = [
      { quantile: 0.5, value: 12 },
      { quantile: 0.99, value: 80.5 },
    ];
    const latency: Metric = {
      name: 'rpc.latency',
      unit: 'ms',
      summary: { dataPoints: [{ timeUnixNano: nanos(Date.now()), count: 40, sum: 700.25, quantileValues: quantiles }] },
    };
    exporter.enqueue(metricsPayload(resource, [latency]));
    await exporter.flush(Date.now() + 10_000);
    const group = { job: 'legacy', instance: '2026/11/23/[$LATEST]0f0e' };
    const parsed = parseText(await gateway.metricsText());
    expect(parsed.types.rpc_latency_milliseconds).toBe('summary');
    for (const q of quantiles) {
      expect(
        find(parsed, 'rpc_latency_milliseconds', { ...group, quantile: String(q.quantile) }).map((s) => s.value),
      ).toEqual([q.value]);
    }
    expect(find(parsed, 'rpc_latency_milliseconds_sum', group).map((s) => s.value)).toEqual([700.25]);
    expect(find(parsed, 'rpc_latency_milliseconds_count', group).map((s) => s.value)).toEqual([40]);
    await exporter.shutdown(Date.now() + 5_000);
    expect(exporter.stats().deletes).toBe(1);
    const after = parseText(await gateway.metricsText());
    expect(find(after, 'rpc_latency_milliseconds_count', group)).toEqual([]);
  });
});
