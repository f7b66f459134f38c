/**
 * The series each kind of data point becomes when the target takes no native
 * histograms or the point is a summary, and the exemplars counters carry,
 * checked against the specification's bucket boundaries and label rules.
 */
import { describe, expect, it } from 'vitest';
import type { ExportMetricsServiceRequest, Metric } from '../../../extension-src/otlp/types.js';
import { PrometheusTranslator } from '../../../extension-src/translate/translator.js';

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;

function request(metrics: Metric[]): ExportMetricsServiceRequest {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [{ metrics }],
      },
    ],
  };
}

/** `name{extra}` -> value of every sample of one family, in output order. */
function samplesOf(out: ReturnType<PrometheusTranslator['translate']>, family: string, extra?: string) {
  return out
    .filter((s) => s.family.name === family)
    .map((s) => {
      const labels = Object.fromEntries(s.labels.map((l) => [l.name, l.value]));
      return [`${labels.__name__}${extra && labels[extra] !== undefined ? `{${labels[extra]}}` : ''}`, s.value];
    });
}

describe('point writers', () => {
  it('writes an exponential histogram as classic buckets at its OpenTelemetry bucket boundaries', () => {
    // Scale 0: base 2. Negative bucket 0 holds (-2, -1], positive buckets 0 and 1 hold (1, 2] and (2, 4].
    const out = new PrometheusTranslator({ nativeHistograms: false }).translate(
      request([
        {
          name: 'latency',
          exponentialHistogram: {
            aggregationTemporality: 2,
            dataPoints: [
              {
                timeUnixNano: ns(1000),
                scale: 0,
                count: 7,
                sum: 5,
                zeroCount: 1,
                negative: { offset: 0, bucketCounts: [3] },
                positive: { offset: 0, bucketCounts: [1, 2] },
              },
            ],
          },
        },
      ]),
    );
    expect(samplesOf(out, 'latency', 'le')).toEqual([
      ['latency_bucket{-1}', 3],
      ['latency_bucket{0}', 4],
      ['latency_bucket{2}', 5],
      ['latency_bucket{4}', 7],
      ['latency_bucket{+Inf}', 7],
      ['latency_sum', 5],
      ['latency_count', 7],
    ]);
  });

  it('drops an exponential histogram coarser than native schema -4, but still writes it as classic buckets', () => {
    const metric: Metric = {
      name: 'coarse',
      exponentialHistogram: {
        aggregationTemporality: 2,
        dataPoints: [{ timeUnixNano: ns(1000), scale: -5, count: 2, positive: { offset: 0, bucketCounts: [2] } }],
      },
    };
    const native = new PrometheusTranslator({ nativeHistograms: true });
    expect(native.translate(request([metric])).filter((s) => s.family.name === 'coarse')).toEqual([]);
    expect(native.dropped.get('unsupported_scale')).toBe(1);
    // Scale -5: base 2^32, so positive bucket 0 holds (1, 2^32].
    const classic = new PrometheusTranslator({ nativeHistograms: false }).translate(request([metric]));
    expect(samplesOf(classic, 'coarse', 'le')).toEqual([
      ['coarse_bucket{0}', 0],
      ['coarse_bucket{4294967296}', 2],
      ['coarse_bucket{+Inf}', 2],
      ['coarse_count', 2],
    ]);
  });

  it('writes a summary as quantiles in ascending order, then _sum and _count', () => {
    const out = new PrometheusTranslator().translate(
      request([
        {
          name: 'rpc',
          unit: 's',
          summary: {
            dataPoints: [
              {
                timeUnixNano: ns(1000),
                count: 10,
                sum: 4.5,
                quantileValues: [
                  { quantile: 0.99, value: 3 },
                  { quantile: 0.5, value: 1 },
                  { quantile: 0.9, value: 2 },
                ],
              },
            ],
          },
        },
      ]),
    );
    expect(samplesOf(out, 'rpc_seconds', 'quantile')).toEqual([
      ['rpc_seconds{0.5}', 1],
      ['rpc_seconds{0.9}', 2],
      ['rpc_seconds{0.99}', 3],
      ['rpc_seconds_sum', 4.5],
      ['rpc_seconds_count', 10],
    ]);
  });

  it("gives a counter's exemplars the trace and span ids as trace_id and span_id", () => {
    const traceId = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const spanId = Uint8Array.from({ length: 8 }, (_, i) => 0xa0 + i);
    const out = new PrometheusTranslator().translate(
      request([
        {
          name: 'orders',
          sum: {
            isMonotonic: true,
            aggregationTemporality: 2,
            dataPoints: [
              {
                timeUnixNano: ns(2000),
                asInt: 3,
                exemplars: [{ asDouble: 1.5, timeUnixNano: ns(1500), traceId, spanId }],
              },
            ],
          },
        },
      ]),
    );
    const counter = out.find((s) => s.family.name === 'orders_total');
    expect(counter?.exemplars).toEqual([
      {
        labels: [
          { name: 'span_id', value: 'a0a1a2a3a4a5a6a7' },
          { name: 'trace_id', value: '0102030405060708090a0b0c0d0e0f10' },
        ],
        value: 1.5,
        timestampMs: 1500,
      },
    ]);
  });
});
