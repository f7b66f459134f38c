import type { OtlpPayload } from '../../../extension-src/contracts/payload.js';
import { decodeRequest } from '../../../extension-src/otlp/proto.js';
import type { HistogramDataPoint, Metric, NumberDataPoint } from '../../../extension-src/otlp/types.js';
import { PlatformTelemetry, type PlatformTelemetryOptions } from '../../../extension-src/platform/index.js';
import { toAttributes } from '../../../extension-src/resource/attributes.js';
import { FUNCTION_NAME } from './telemetry-events.js';

/** A PlatformTelemetry with a settable clock that keeps what it emits, decoded. */
export function platformHarness(options: Partial<PlatformTelemetryOptions> = {}) {
  const payloads: OtlpPayload[] = [];
  const clock = { now: Date.parse('2026-11-23T10:00:00.000Z') };
  const platform = new PlatformTelemetry({
    emit: (p) => payloads.push(p),
    resource: () => toAttributes({ 'faas.name': FUNCTION_NAME, 'service.name': FUNCTION_NAME }),
    now: () => clock.now,
    startTimeMs: clock.now,
    ...options,
  });
  const spans = () =>
    payloads
      .filter((p) => p.signal === 'traces')
      .flatMap((p) => decodeRequest('traces', p.bytes).resourceSpans ?? [])
      .flatMap((rs) => rs.scopeSpans ?? [])
      .flatMap((ss) => ss.spans ?? []);
  const logs = () =>
    payloads
      .filter((p) => p.signal === 'logs')
      .flatMap((p) => decodeRequest('logs', p.bytes).resourceLogs ?? [])
      .flatMap((rl) => rl.scopeLogs ?? [])
      .flatMap((sl) => sl.logRecords ?? []);
  /** Metrics of the newest metrics payload. */
  const latestMetrics = (): Map<string, Metric> => {
    const last = payloads.filter((p) => p.signal === 'metrics').at(-1);
    const out = new Map<string, Metric>();
    if (!last) return out;
    for (const rm of decodeRequest('metrics', last.bytes).resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) out.set(m.name ?? '', m);
    }
    return out;
  };
  const counter = (name: string) => {
    const point = latestMetrics().get(name)?.sum?.dataPoints?.[0] as NumberDataPoint | undefined;
    return point ? Number(point.asInt ?? point.asDouble) : undefined;
  };
  const histogram = (name: string) =>
    latestMetrics().get(name)?.histogram?.dataPoints?.[0] as HistogramDataPoint | undefined;
  return { platform, payloads, clock, spans, logs, latestMetrics, counter, histogram };
}
