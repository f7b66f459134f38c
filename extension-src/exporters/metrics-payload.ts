/**
 * The first step of the Prometheus exporters (remote write, Pushgateway): an
 * OTLP metrics payload decoded and translated to Prometheus samples.
 */

import type { OtlpPayload } from '../contracts/payload.js';
import { decodeRequest } from '../otlp/proto.js';
import type { SeriesSample } from '../translate/series.js';
import type { PrometheusTranslator } from '../translate/translator.js';

/**
 * The payload's samples, or undefined when its bytes cannot be decoded, after
 * `undecodable` is told how many data points that loses and why (the exporter
 * counts and logs them as its own drops).
 */
export function translatePayload(
  translator: PrometheusTranslator,
  payload: OtlpPayload,
  undecodable: (points: number, message: string) => void,
): SeriesSample[] | undefined {
  try {
    return translator.translate(decodeRequest('metrics', payload.bytes));
  } catch (error) {
    undecodable(payload.items, `an OTLP metrics payload could not be decoded (${String(error)})`);
    return undefined;
  }
}
