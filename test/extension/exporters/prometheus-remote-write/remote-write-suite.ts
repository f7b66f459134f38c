/**
 * OTLP metrics from the real OpenTelemetry JS SDK, recorded over several
 * invocations, go through the translator and the remote write exporter into a
 * real backend (Prometheus, Cortex); PromQL through the backend's own query
 * API must return exactly what was recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OtlpPayload } from '../../../../extension-src/contracts/payload.js';
import { parseRemoteWriteOptions } from '../../../../extension-src/exporters/prometheus-remote-write/config.js';
import { RemoteWriteExporter } from '../../../../extension-src/exporters/prometheus-remote-write/exporter.js';
import type { Metric } from '../../../../extension-src/otlp/types.js';
import { createLogger } from '../../../../extension-src/self-telemetry/log.js';
import type { InstantVector } from '../../../support/prometheus.js';
import { classicQuantile, nativeQuantile, sum } from './expected.js';
import { metricsPayload, nanos, stringResource } from './metrics-request.js';
import { EXPONENTIAL_VIEW, exponentialScales, pointTimes, SdkFunction, sleep } from './sdk-harness.js';

const BOUNDS = [0.1, 0.5, 1, 2.5];
// Dyadic fractions add up exactly in floating point, whatever the order of addition.
const DURATIONS = [0.0625, 0.25, 0.375, 0.75, 1.5, 3, 0.125, 0.5];
const INVOCATIONS = 5;

/** A small deterministic generator, so a failing run can be repeated. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** A remote write backend as the suite sees it: where to write (and with which settings), and its query API. */
export interface QueriedBackend {
  /** The OBSERVED_* settings that point the exporter at it (URL, tenant header). */
  readonly exporterEnv: Record<string, string>;
  query(promql: string, time?: number): Promise<InstantVector[]>;
  value(promql: string, time?: number): Promise<number>;
  exemplars(promql: string, startSec: number, endSec: number): Promise<unknown[]>;
  /**
   * Range selectors leave out a sample exactly at the range's start (the
   * PromQL engine of Prometheus 3, which Cortex 1.21 runs); Prometheus 2 keeps it.
   */
  readonly leftOpenRanges?: boolean;
  /** How histogram_quantile interpolates inside a native histogram's bucket (see ./expected.ts). */
  readonly nativeInterpolation?: 'linear' | 'exponential';
}

/** The suite against one backend; `start` is undefined when the backend is not installed (skipped). */
export function remoteWriteSuite(
  name: string,
  start: (() => Promise<{ backend: QueriedBackend; stop: () => Promise<void> }>) | undefined,
): void {
  describe.skipIf(!start)(`remote write to a real ${name}`, () => {
    let prom: QueriedBackend;
    let stop: (() => Promise<void>) | undefined;
    const logs: string[] = [];

    beforeAll(async () => {
      const started = await (start as NonNullable<typeof start>)();
      prom = started.backend;
      stop = started.stop;
    }, 120_000);

    afterAll(async () => {
      await stop?.();
    });

    function exporterFor(extra: Record<string, string> = {}): RemoteWriteExporter {
      const parsed = parseRemoteWriteOptions({
        ...prom.exporterEnv,
        OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS: 'true',
        ...extra,
      });
      expect(parsed.warnings).toEqual([]);
      if (!parsed.options) throw new Error('remote write options missing');
      return new RemoteWriteExporter(parsed.options, { log: createLogger('debug', (line) => logs.push(line)) });
    }

    for (const temporality of ['cumulative', 'delta'] as const) {
      it(`${temporality} temporality: counters, gauges and histograms query back exactly, and vanish at shutdown`, async () => {
        const instance = `env-${temporality}`;
        const fn = await SdkFunction.start({
          temporality,
          resource: {
            'service.name': 'checkout',
            'service.namespace': 'shop',
            'service.instance.id': instance,
            'cloud.region': 'eu-west-1',
          },
          views: [EXPONENTIAL_VIEW('payload.size')],
        });
        const exporter = exporterFor();
        const requests = fn.meter.createCounter('http.requests', { unit: '{request}' });
        const depth = fn.meter.createUpDownCounter('queue.depth', { unit: '{item}' });
        const temperature = fn.meter.createGauge('room.temperature', { unit: 'Cel' });
        const duration = fn.meter.createHistogram('request.duration', {
          unit: 's',
          advice: { explicitBucketBoundaries: BOUNDS },
        });
        const payload = fn.meter.createHistogram('payload.size', { unit: 'By' });

        const random = generator(temporality === 'delta' ? 7 : 11);
        const perRoute: Record<string, number[]> = { '/a': [], '/b': [] };
        const depthChanges: number[] = [];
        const temperatures: number[] = [];
        const durations: number[] = [];
        const payloadSizes: number[] = [];
        const payloads: OtlpPayload[] = [];
        const routeTotalsAfterFirst: Record<string, number> = {};

        for (let invocation = 0; invocation < INVOCATIONS; invocation++) {
          for (const route of ['/a', '/b']) {
            const n = 1 + Math.floor(random() * 5);
            requests.add(n, { 'http.route': route });
            perRoute[route].push(n);
          }
          const change = Math.floor(random() * 7) - 3;
          depth.add(change);
          depthChanges.push(change);
          const t = 18 + Math.floor(random() * 80) / 8;
          temperature.record(t);
          temperatures.push(t);
          for (let k = 0; k < 3; k++) {
            const d = DURATIONS[Math.floor(random() * DURATIONS.length)];
            duration.record(d);
            durations.push(d);
            const size = 100 + Math.floor(random() * 4900);
            payload.record(size);
            payloadSizes.push(size);
          }
          const flushed = await fn.flush();
          for (const p of flushed) exporter.enqueue(p);
          payloads.push(...flushed);
          await exporter.flush(Date.now() + 10_000);
          if (invocation === 0) for (const r of ['/a', '/b']) routeTotalsAfterFirst[r] = sum(perRoute[r]);
          // Time passes between invocations (the environment is frozen in between).
          await sleep(25);
        }

        const stats = exporter.stats();
        expect(stats.samplesDropped).toEqual({});
        expect(stats.samplesSent).toBe(stats.samplesQueued);
        expect(exporter.pendingItems()).toBe(0);

        const times = pointTimes(payloads, 'http.requests');
        expect(times).toHaveLength(INVOCATIONS);
        const last = times[times.length - 1];
        const first = times[0];
        const at = last / 1000;
        const sel = `job="shop/checkout",instance="${instance}"`;

        // Counters: the running total, its sum by label, and increase/rate over exactly the sampled window.
        for (const route of ['/a', '/b']) {
          expect(await prom.value(`http_requests_total{${sel},http_route="${route}"}`, at)).toBe(sum(perRoute[route]));
        }
        const byRoute = await prom.query(`sum by (http_route) (http_requests_total{${sel}})`, at);
        expect(Object.fromEntries(byRoute.map((r) => [r.metric.http_route, Number(r.value?.[1])]))).toEqual({
          '/a': sum(perRoute['/a']),
          '/b': sum(perRoute['/b']),
        });
        const windowMs = last - first;
        const exactIncrease = sum(perRoute['/a']) - routeTotalsAfterFirst['/a'];
        if (prom.leftOpenRanges) {
          // A range one millisecond longer holds the first sample; increase() extrapolates over that millisecond.
          const rangeMs = windowMs + 1;
          const increase = await prom.value(`increase(http_requests_total{${sel},http_route="/a"}[${rangeMs}ms])`, at);
          expect(increase).toBeCloseTo((exactIncrease * rangeMs) / windowMs, 9);
        } else {
          const increase = await prom.value(`increase(http_requests_total{${sel},http_route="/a"}[${windowMs}ms])`, at);
          expect(increase).toBe(exactIncrease);
        }
        const rangeMs = prom.leftOpenRanges ? windowMs + 1 : windowMs;
        const rate = await prom.value(`rate(http_requests_total{${sel},http_route="/b"}[${rangeMs}ms])`, at);
        expect(rate).toBeCloseTo((sum(perRoute['/b']) - routeTotalsAfterFirst['/b']) / (windowMs / 1000), 9);

        // Up-down counter and gauge are gauges.
        expect(await prom.value(`queue_depth{${sel}}`, at)).toBe(sum(depthChanges));
        expect(await prom.value(`room_temperature_celsius{${sel}}`, at)).toBe(temperatures[temperatures.length - 1]);

        // Explicit-bucket histogram: cumulative buckets, sum, count, quantiles.
        expect(await prom.value(`request_duration_seconds_count{${sel}}`, at)).toBe(durations.length);
        expect(await prom.value(`request_duration_seconds_sum{${sel}}`, at)).toBe(sum(durations));
        for (const le of [...BOUNDS, Number.POSITIVE_INFINITY]) {
          const label = le === Number.POSITIVE_INFINITY ? '+Inf' : String(le);
          expect(await prom.value(`request_duration_seconds_bucket{${sel},le="${label}"}`, at)).toBe(
            durations.filter((d) => d <= le).length,
          );
        }
        for (const q of [0.5, 0.9]) {
          const got = await prom.value(
            `histogram_quantile(${q}, sum by (le) (request_duration_seconds_bucket{${sel}}))`,
            at,
          );
          expect(got).toBeCloseTo(classicQuantile(q, BOUNDS, durations), 12);
        }

        // Exponential histogram as a native histogram.
        expect(await prom.value(`histogram_count(payload_size_bytes{${sel}})`, at)).toBe(payloadSizes.length);
        expect(await prom.value(`histogram_sum(payload_size_bytes{${sel}})`, at)).toBe(sum(payloadSizes));
        const scale = Math.min(8, ...exponentialScales(payloads, 'payload.size'));
        for (const q of [0.5, 0.9]) {
          const got = await prom.value(`histogram_quantile(${q}, payload_size_bytes{${sel}})`, at);
          expect(got / nativeQuantile(q, scale, payloadSizes, prom.nativeInterpolation)).toBeCloseTo(1, 12);
        }

        // Resource attributes: job/instance on every series, the rest on target_info.
        const info = await prom.query(`target_info{${sel}}`, at);
        expect(info).toHaveLength(1);
        expect(info[0].metric).toMatchObject({ cloud_region: 'eu-west-1', job: 'shop/checkout', instance });
        const scoped = await prom.query(`http_requests_total{${sel},http_route="/a"}`, at);
        expect(scoped[0].metric).toMatchObject({ otel_scope_name: 'checkout', otel_scope_version: '1.2.3' });

        // Shutdown writes staleness markers: the instance is gone from instant queries at once.
        const beforeShutdown = Date.now();
        expect((await prom.query(`{${sel}}`, beforeShutdown / 1000)).length).toBeGreaterThan(0);
        await exporter.shutdown(Date.now() + 10_000);
        expect(exporter.stats().samplesDropped).toEqual({});
        const afterShutdown = (Date.now() + 1) / 1000;
        expect(await prom.query(`{${sel}}`, afterShutdown)).toEqual([]);
        // ... while the data written before stays queryable at its own time.
        expect(await prom.value(`http_requests_total{${sel},http_route="/a"}`, at)).toBe(sum(perRoute['/a']));
        await fn.shutdown();
      });
    }

    it('summaries, exemplars, staleness flags and classic buckets for exponential histograms', async () => {
      const exporter = exporterFor({ OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS: 'false' });
      const start = Date.now() - 2_000;
      const resource = stringResource({ 'service.name': 'legacy', 'faas.instance': '2026/11/23/[$LATEST]abc' });
      const scope = { name: 'legacy-lib' };
      const traceId = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
      const spanId = Buffer.from('b7ad6b7169203331', 'hex');
      const summaries = [
        { t: start, count: 10, sum: 12.5, q: [0.5, 1.1, 0.99, 2.4] },
        { t: start + 500, count: 25, sum: 31.25, q: [0.5, 1.2, 0.99, 2.9] },
      ];
      for (const s of summaries) {
        const metrics: Metric[] = [
          {
            name: 'rpc.latency',
            unit: 'ms',
            description: 'RPC latency',
            summary: {
              dataPoints: [
                {
                  timeUnixNano: nanos(s.t),
                  count: s.count,
                  sum: s.sum,
                  quantileValues: [
                    { quantile: s.q[0], value: s.q[1] },
                    { quantile: s.q[2], value: s.q[3] },
                  ],
                },
              ],
            },
          },
          {
            name: 'jobs.done',
            sum: {
              isMonotonic: true,
              aggregationTemporality: 2,
              dataPoints: [
                {
                  timeUnixNano: nanos(s.t),
                  asInt: s.count,
                  exemplars: [{ timeUnixNano: nanos(s.t - 1), asInt: 1, traceId, spanId }],
                },
              ],
            },
          },
          {
            name: 'body.size',
            unit: 'By',
            exponentialHistogram: {
              aggregationTemporality: 2,
              dataPoints: [
                {
                  timeUnixNano: nanos(s.t),
                  count: s.count,
                  sum: s.sum,
                  scale: 0,
                  zeroCount: 1,
                  // buckets (1,2], (2,4], (4,8]
                  positive: { offset: 0, bucketCounts: [s.count - 4, 1, 2] },
                },
              ],
            },
          },
        ];
        exporter.enqueue(metricsPayload(resource, metrics, scope));
      }
      // The stream ends: the SDK marks the last point as having no recorded value.
      const ended: Metric = {
        name: 'jobs.done',
        sum: {
          isMonotonic: true,
          aggregationTemporality: 2,
          dataPoints: [{ timeUnixNano: nanos(start + 1000), flags: 1 }],
        },
      };
      exporter.enqueue(metricsPayload(resource, [ended], scope));
      await exporter.flush(Date.now() + 10_000);
      expect(exporter.stats().samplesDropped).toEqual({});
      const sel = 'job="legacy",instance="2026/11/23/[$LATEST]abc"';
      const at = (start + 500) / 1000;
      const last = summaries[1];
      expect(await prom.value(`rpc_latency_milliseconds{${sel},quantile="0.5"}`, at)).toBe(last.q[1]);
      expect(await prom.value(`rpc_latency_milliseconds{${sel},quantile="0.99"}`, at)).toBe(last.q[3]);
      expect(await prom.value(`rpc_latency_milliseconds_sum{${sel}}`, at)).toBe(last.sum);
      expect(await prom.value(`rpc_latency_milliseconds_count{${sel}}`, at)).toBe(last.count);
      // Exponential buckets as classic `le` buckets when native histograms are off.
      expect(await prom.value(`body_size_bytes_bucket{${sel},le="0"}`, at)).toBe(1);
      expect(await prom.value(`body_size_bytes_bucket{${sel},le="2"}`, at)).toBe(1 + last.count - 4);
      expect(await prom.value(`body_size_bytes_bucket{${sel},le="8"}`, at)).toBe(last.count);
      expect(await prom.value(`body_size_bytes_bucket{${sel},le="+Inf"}`, at)).toBe(last.count);
      // The counter's exemplars carry the trace and span ids.
      const exemplars = (await prom.exemplars(`jobs_done_total{${sel}}`, start / 1000 - 1, at + 1)) as {
        exemplars: { labels: Record<string, string>; value: string }[];
      }[];
      expect(exemplars[0].exemplars.map((e) => e.labels)).toEqual([
        { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' },
        { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' },
      ]);
      // NoRecordedValue became a staleness marker: the counter is gone right after it, the others are not.
      expect(await prom.query(`jobs_done_total{${sel}}`, (start + 1001) / 1000)).toEqual([]);
      expect(await prom.value(`jobs_done_total{${sel}}`, (start + 999) / 1000)).toBe(last.count);
      expect(await prom.value(`rpc_latency_milliseconds_count{${sel}}`, (start + 1001) / 1000)).toBe(last.count);
      await exporter.shutdown(Date.now() + 10_000);
    });
  });
}
