/**
 * The validator's known metrics: a counter, a gauge and an explicit-bucket
 * histogram with fixed values, all carrying a unique run label, encoded as an
 * OTLP metrics request exactly as a function's SDK would send it. They travel
 * through the extension's own translation and remote write code, so a pass
 * proves the whole path from OTLP to the backend's query API.
 */
import { encodeRequest } from '../extension-src/otlp/proto.js';
import { AggregationTemporality, type ExportMetricsServiceRequest } from '../extension-src/otlp/types.js';

export const RUN_LABEL = 'observed_validate_run';
export const VALIDATE_JOB = 'observed-lambda-validate';

export const KNOWN = {
  counter: { name: 'observed_validate_requests', value: 42 },
  gauge: { name: 'observed_validate_temperature', unit: 'Cel', value: 21.5 },
  histogram: {
    name: 'observed_validate_latency',
    unit: 's',
    bounds: [0.1, 0.5, 1],
    counts: [1, 2, 3, 4],
    // Dyadic values add up exactly whatever the order of addition.
    sum: 10.625,
  },
} as const;

export interface ExpectedSeries {
  /** A PromQL expression that must return exactly one sample. */
  readonly query: string;
  readonly expected: number;
}

/** A run id that is unique enough to keep runs against one backend apart. */
export function newRunId(now = Date.now()): string {
  return `${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString() as never;

/** The OTLP request with the known metrics, points at `timeMs`. */
export function knownMetricsRequest(runId: string, timeMs: number): { bytes: Uint8Array; items: number } {
  const attributes = [{ key: RUN_LABEL, value: { stringValue: runId } }];
  const start = nanos(timeMs - 1_000);
  const time = nanos(timeMs);
  const h = KNOWN.histogram;
  const request: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: VALIDATE_JOB } },
            { key: 'service.instance.id', value: { stringValue: runId } },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'observed-lambda/validate' },
            metrics: [
              {
                name: KNOWN.counter.name,
                sum: {
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  isMonotonic: true,
                  dataPoints: [
                    { attributes, startTimeUnixNano: start, timeUnixNano: time, asInt: KNOWN.counter.value },
                  ],
                },
              },
              {
                name: KNOWN.gauge.name,
                unit: KNOWN.gauge.unit,
                gauge: { dataPoints: [{ attributes, timeUnixNano: time, asDouble: KNOWN.gauge.value }] },
              },
              {
                name: h.name,
                unit: h.unit,
                histogram: {
                  aggregationTemporality: AggregationTemporality.CUMULATIVE,
                  dataPoints: [
                    {
                      attributes,
                      startTimeUnixNano: start,
                      timeUnixNano: time,
                      count: h.counts.reduce((a, b) => a + b, 0),
                      sum: h.sum,
                      explicitBounds: [...h.bounds],
                      bucketCounts: [...h.counts],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return { bytes: encodeRequest('metrics', request), items: 3 };
}

/** What the backend must return for the known metrics of a run (names as the translator writes them). */
export function knownExpectations(runId: string): ExpectedSeries[] {
  const sel = (extra = '') => `{${RUN_LABEL}="${runId}"${extra}}`;
  const h = KNOWN.histogram;
  const out: ExpectedSeries[] = [
    { query: `${KNOWN.counter.name}_total${sel()}`, expected: KNOWN.counter.value },
    { query: `${KNOWN.gauge.name}_celsius${sel()}`, expected: KNOWN.gauge.value },
  ];
  let cumulative = 0;
  h.bounds.forEach((le, i) => {
    cumulative += h.counts[i];
    out.push({ query: `${h.name}_seconds_bucket${sel(`,le="${le}"`)}`, expected: cumulative });
  });
  const total = h.counts.reduce((a, b) => a + b, 0);
  out.push({ query: `${h.name}_seconds_bucket${sel(',le="+Inf"')}`, expected: total });
  out.push({ query: `${h.name}_seconds_count${sel()}`, expected: total });
  out.push({ query: `${h.name}_seconds_sum${sel()}`, expected: h.sum });
  return out;
}
