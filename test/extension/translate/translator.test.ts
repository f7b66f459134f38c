/**
 * Translation rules of the OpenTelemetry "Prometheus and OpenMetrics
 * compatibility" specification, checked on the series the translator produces
 * (the end-to-end tests check the values through a real Prometheus).
 */
import { describe, expect, it } from 'vitest';
import { parseTranslateOptions } from '../../../extension-src/exporters/translate-settings.js';
import type { ExportMetricsServiceRequest, KeyValue, Metric } from '../../../extension-src/otlp/types.js';
import {
  metricFamilyName,
  sanitizeLabelName,
  sanitizeMetricName,
  unitWord,
} from '../../../extension-src/translate/names.js';
import { PrometheusTranslator } from '../../../extension-src/translate/translator.js';

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;
const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

function request(metrics: Metric[], resource: KeyValue[] = [str('service.name', 'svc')]): ExportMetricsServiceRequest {
  return {
    resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ scope: { name: 's' }, metrics }] }],
  };
}

function labelsOf(sample: { labels: readonly { name: string; value: string }[] }): Record<string, string> {
  return Object.fromEntries(sample.labels.map((l) => [l.name, l.value]));
}

describe('names', () => {
  it('sanitizes metric and label names and collapses underscores', () => {
    expect(sanitizeMetricName('http.server.request.duration')).toBe('http_server_request_duration');
    expect(sanitizeMetricName('a..b--c')).toBe('a_b_c');
    expect(sanitizeMetricName('2xx.count')).toBe('_2xx_count');
    expect(sanitizeMetricName('ns:metric')).toBe('ns:metric');
    expect(sanitizeLabelName('http.response.status_code')).toBe('http_response_status_code');
    expect(sanitizeLabelName('ns:key')).toBe('ns_key');
    expect(sanitizeLabelName('0day')).toBe('_0day');
  });

  it('maps UCUM units to words, drops annotations, and spells rates as _per_', () => {
    expect(unitWord('ms', false)).toBe('milliseconds');
    expect(unitWord('By', false)).toBe('bytes');
    expect(unitWord('KiBy', false)).toBe('kibibytes');
    expect(unitWord('{request}', false)).toBe('');
    expect(unitWord('By/s', false)).toBe('bytes_per_second');
    expect(unitWord('{packet}/s', false)).toBe('per_second');
    expect(unitWord('1', true)).toBe('ratio');
    expect(unitWord('1', false)).toBe('');
    expect(unitWord('Cel', true)).toBe('celsius');
  });

  it('adds the unit unless the name has it, and _total to counters', () => {
    expect(metricFamilyName('http.server.duration', 's', 'other')).toBe('http_server_duration_seconds');
    expect(metricFamilyName('process.cpu.seconds', 's', 'counter')).toBe('process_cpu_seconds_total');
    expect(metricFamilyName('requests_total', '{request}', 'counter')).toBe('requests_total');
    expect(metricFamilyName('sent.total', 'By', 'counter')).toBe('sent_bytes_total');
    expect(metricFamilyName('cpu.utilization', '1', 'gauge')).toBe('cpu_utilization_ratio');
  });
});

describe('translator', () => {
  it('turns resource attributes into job, instance and target_info, and promotes chosen ones', () => {
    const translator = new PrometheusTranslator({ promotedResourceAttributes: ['cloud.region'] });
    const out = translator.translate(
      request(
        [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: ns(1000), asDouble: 1.5 }] } }],
        [
          str('service.name', 'api'),
          str('service.namespace', 'shop'),
          str('faas.instance', 'log-stream-1'),
          str('cloud.region', 'eu-west-1'),
          str('faas.name', 'api-fn'),
        ],
      ),
    );
    expect(labelsOf(out[0])).toEqual({
      __name__: 'g',
      job: 'shop/api',
      instance: 'log-stream-1',
      cloud_region: 'eu-west-1',
      otel_scope_name: 's',
    });
    const info = out.find((s) => s.family.name === 'target_info');
    expect(info && labelsOf(info)).toEqual({
      __name__: 'target_info',
      job: 'shop/api',
      instance: 'log-stream-1',
      cloud_region: 'eu-west-1',
      faas_instance: 'log-stream-1',
      faas_name: 'api-fn',
    });
    expect(info?.value).toBe(1);
  });

  it('prefers service.instance.id for instance, and job/instance cannot be overridden by attributes', () => {
    const out = new PrometheusTranslator().translate(
      request(
        [
          {
            name: 'g',
            gauge: {
              dataPoints: [{ timeUnixNano: ns(1000), asInt: 2, attributes: [str('job', 'spoof'), str('a.b', 'x')] }],
            },
          },
        ],
        [str('service.name', 'api'), str('service.instance.id', 'i-1'), str('faas.instance', 'stream')],
      ),
    );
    expect(labelsOf(out[0])).toMatchObject({ job: 'api', instance: 'i-1', a_b: 'x' });
  });

  it('joins attribute values whose names collide after sanitizing, in the order of the original keys', () => {
    const out = new PrometheusTranslator({ scopeLabels: false }).translate(
      request([
        {
          name: 'g',
          gauge: {
            dataPoints: [{ timeUnixNano: ns(1000), asInt: 2, attributes: [str('a/b', 'second'), str('a.b', 'first')] }],
          },
        },
      ]),
    );
    expect(labelsOf(out[0]).a_b).toBe('first;second');
  });

  it('adds external labels, including an HA pair, without replacing labels a series has', () => {
    const { options, warnings } = parseTranslateOptions({
      OBSERVED_PROMETHEUS_EXTERNAL_LABELS: 'cluster=prod,__replica__=replica-a,http_route=never',
    });
    expect(warnings).toEqual([]);
    const out = new PrometheusTranslator(options).translate(
      request([
        {
          name: 'g',
          gauge: { dataPoints: [{ timeUnixNano: ns(1000), asInt: 2, attributes: [str('http.route', '/a')] }] },
        },
      ]),
    );
    expect(labelsOf(out[0])).toMatchObject({ cluster: 'prod', __replica__: 'replica-a', http_route: '/a' });
    const names = out[0].labels.map((l) => l.name);
    expect(names).toEqual([...names].sort());
  });

  it('accumulates delta sums per series and refuses points that are not newer', () => {
    const translator = new PrometheusTranslator();
    const point = (t: number, v: number) =>
      request([
        {
          name: 'c',
          sum: { isMonotonic: true, aggregationTemporality: 1, dataPoints: [{ timeUnixNano: ns(t), asInt: v }] },
        },
      ]);
    expect(translator.translate(point(1000, 3))[0].value).toBe(3);
    expect(translator.translate(point(2000, 4))[0].value).toBe(7);
    expect(translator.translate(point(2000, 5)).filter((s) => s.family.name === 'c_total')).toEqual([]);
    expect(translator.dropped.get('out_of_order')).toBe(1);
    expect(translator.translate(point(3000, 1))[0].value).toBe(8);
  });

  it('merges delta exponential histograms of different scales at the coarser one, and caps native schemas at 8', () => {
    const translator = new PrometheusTranslator({ nativeHistograms: true });
    const point = (t: number, scale: number, offset: number, counts: number[]) =>
      request([
        {
          name: 'h',
          exponentialHistogram: {
            aggregationTemporality: 1,
            dataPoints: [
              {
                timeUnixNano: ns(t),
                scale,
                count: counts.reduce((a, b) => a + b, 0),
                sum: 1,
                positive: { offset, bucketCounts: counts },
              },
            ],
          },
        },
      ]);
    // Scale 10: buckets 1024..1027 are one bucket (1024 >> 2 = 256) at scale 8, which Prometheus numbers 257.
    const first = translator.translate(point(1000, 10, 1024, [1, 1, 1, 1]))[0].histogram;
    expect(first).toMatchObject({
      schema: 8,
      count: 4,
      positiveSpans: [{ offset: 257, length: 1 }],
      positiveDeltas: [4],
    });
    // Scale 7: bucket 128 holds scale-8 buckets 256 and 257; the running total moves to scale 7.
    const merged = translator.translate(point(2000, 7, 128, [2]))[0].histogram;
    expect(merged).toMatchObject({
      schema: 7,
      count: 6,
      positiveSpans: [{ offset: 129, length: 1 }],
      positiveDeltas: [6],
    });
  });

  it('drops a metric whose name arrives with another type, and says so once', () => {
    const translator = new PrometheusTranslator();
    const warnings: string[] = [];
    translator.onWarning = (m) => warnings.push(m);
    translator.translate(request([{ name: 'x', gauge: { dataPoints: [{ timeUnixNano: ns(1), asInt: 1 }] } }]));
    for (let i = 0; i < 3; i++) {
      const out = translator.translate(
        request([{ name: 'x', summary: { dataPoints: [{ timeUnixNano: ns(2 + i), count: 1, sum: 1 }] } }]),
      );
      expect(out.filter((s) => s.family.name === 'x')).toEqual([]);
    }
    expect(translator.dropped.get('type_conflict')).toBe(3);
    expect(warnings).toHaveLength(1);
  });

  it('marks every series of a histogram point without a recorded value as stale', () => {
    const out = new PrometheusTranslator().translate(
      request([
        {
          name: 'd',
          unit: 's',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: ns(5), flags: 1, explicitBounds: [1] }],
          },
        },
      ]),
    );
    const series = out.filter((s) => s.family.name === 'd_seconds');
    expect(series.map((s) => labelsOf(s).__name__)).toEqual([
      'd_seconds_bucket',
      'd_seconds_bucket',
      'd_seconds_sum',
      'd_seconds_count',
    ]);
    expect(series.every((s) => s.stale === true)).toBe(true);
  });
});

describe('label limits', () => {
  const gauge = (attributes: KeyValue[], t = 1_000): Metric => ({
    name: 'load',
    gauge: { dataPoints: [{ timeUnixNano: ns(t), asDouble: 1, attributes }] },
  });

  it('shortens long label values to the limit in UTF-8 bytes, keeping distinct values distinct', () => {
    const translator = new PrometheusTranslator({ maxLabelValueBytes: 100, targetInfo: false });
    const long = 'é'.repeat(200);
    const samples = translator.translate(
      request([gauge([str('a', `${long}1`)]), { ...gauge([str('a', `${long}2`)]), name: 'load2' }]),
    );
    const a1 = labelsOf(samples[0]).a;
    const a2 = labelsOf(samples[1]).a;
    expect(Buffer.byteLength(a1, 'utf8')).toBeLessThanOrEqual(100);
    // Whole characters only, then `#` and a hash of the whole value.
    expect(a1).toMatch(/^(é)+#[0-9a-f]{16}$/);
    expect(a1).not.toBe(a2);
    expect(a1.slice(0, a1.indexOf('#'))).toBe(a2.slice(0, a2.indexOf('#')));
    // Short values are left alone.
    expect(labelsOf(translator.translate(request([gauge([str('b', 'short')], 2_000)]))[0]).b).toBe('short');
    expect(translator.labelValuesShortened).toBe(2);
  });

  it('shortens resource and scope label values (job, target_info) too', () => {
    const translator = new PrometheusTranslator({ maxLabelValueBytes: 64 });
    const samples = translator.translate(
      request([gauge([])], [str('service.name', 'x'.repeat(1000)), str('cloud.region', 'y'.repeat(1000))]),
    );
    for (const s of samples) for (const l of s.labels) expect(Buffer.byteLength(l.value)).toBeLessThanOrEqual(64);
    expect(samples.map((s) => s.family.name).sort()).toEqual(['load', 'target_info']);
  });

  it('drops and counts a series with more labels than the limit, __name__ and le included', () => {
    const translator = new PrometheusTranslator({ maxLabelsPerSeries: 10, targetInfo: false, scopeLabels: false });
    // job + 8 attributes + __name__ = 10: kept.
    const eight = Array.from({ length: 8 }, (_, i) => str(`k${i}`, 'v'));
    expect(translator.translate(request([gauge(eight)]))).toHaveLength(1);
    // A histogram needs `le` as well: 11 labels, dropped.
    const histogram: Metric = {
      name: 'latency',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          {
            timeUnixNano: ns(1_000),
            count: 1,
            sum: 1,
            bucketCounts: [1, 0],
            explicitBounds: [1],
            attributes: eight,
          },
        ],
      },
    };
    expect(translator.translate(request([histogram]))).toHaveLength(0);
    expect(translator.dropped.get('too_many_labels')).toBe(1);
  });

  it('reads the limits from OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH and OBSERVED_PROMETHEUS_MAX_LABELS', () => {
    const parsed = parseTranslateOptions({
      OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH: '512',
      OBSERVED_PROMETHEUS_MAX_LABELS: '30',
    });
    expect(parsed.options.maxLabelValueBytes).toBe(512);
    expect(parsed.options.maxLabelsPerSeries).toBe(30);
    const defaults = parseTranslateOptions({ OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH: '10' });
    expect(defaults.options.maxLabelValueBytes).toBe(2048);
    expect(defaults.options.maxLabelsPerSeries).toBe(70);
    expect(defaults.warnings.join()).toContain('OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH=10 is not valid');
  });
});
