/**
 * The first step of the Prometheus exporters (remote write, Pushgateway): OTLP
 * metrics payloads decoded and translated to Prometheus samples by the
 * exporter's own translator (running totals of delta streams need every point,
 * in order), with the points taken in and the translator's drops kept for the
 * exporter's counters.
 */

import type { OtlpPayload } from '../contracts/payload.js';
import { decodeRequest } from '../otlp/proto.js';
import type { Logger } from '../self-telemetry/log.js';
import type { SeriesSample } from '../translate/series.js';
import { PrometheusTranslator, type TranslateOptions } from '../translate/translator.js';

export class MetricsIntake {
  readonly translator: PrometheusTranslator;
  /** OTLP data points taken in. */
  pointsReceived = 0;

  constructor(options: TranslateOptions, log: Logger) {
    this.translator = new PrometheusTranslator(options);
    this.translator.onWarning = (message) => log.warn(message);
  }

  /**
   * The samples of a metrics payload; undefined for another signal, or when its
   * bytes cannot be decoded, after `undecodable` is told how many data points
   * that loses and why (the exporter counts and logs them as its own drops).
   */
  take(payload: OtlpPayload, undecodable: (points: number, message: string) => void): SeriesSample[] | undefined {
    if (payload.signal !== 'metrics') return undefined;
    this.pointsReceived += payload.items;
    try {
      return this.translator.translate(decodeRequest('metrics', payload.bytes));
    } catch (error) {
      undecodable(payload.items, `an OTLP metrics payload could not be decoded (${String(error)})`);
      return undefined;
    }
  }

  /** The exporter's own drops by reason, with the translator's added as `translation_<reason>`. */
  withTranslationDrops(own: Readonly<Record<string, number>>): Record<string, number> {
    const all = { ...own };
    for (const [reason, count] of this.translator.dropped) all[`translation_${reason}`] = count;
    return all;
  }
}
