/** The translator's settings (OBSERVED_PROMETHEUS_*, read by exporters/translate-settings.ts) and their defaults. */
import type { Label } from './labels.js';

export interface TranslateOptions {
  /** Exponential histograms as native histograms (true) or classic `le` buckets (false). */
  readonly nativeHistograms: boolean;
  /** Added to every series unless the series already has the label (like Prometheus's external_labels). */
  readonly externalLabels: readonly Label[];
  /** Resource attributes copied onto every series as labels (names sanitized). */
  readonly promotedResourceAttributes: readonly string[];
  /** `otel_scope_name` and `otel_scope_version` labels (the specification's default). */
  readonly scopeLabels: boolean;
  /** One `target_info` series per resource with its other attributes. */
  readonly targetInfo: boolean;
  /** Longer label values (UTF-8 bytes) are shortened to a prefix and a hash of the whole value. */
  readonly maxLabelValueBytes: number;
  /** Series with more labels than this (`__name__`, `le` and `quantile` included) are dropped and counted. */
  readonly maxLabelsPerSeries: number;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  // Off unless asked for (OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS): many receivers take no native histograms.
  nativeHistograms: false,
  externalLabels: [],
  promotedResourceAttributes: [],
  scopeLabels: true,
  targetInfo: true,
  // Cortex and Mimir refuse label values over 2,048 bytes by default (-validation.max-length-label-value).
  maxLabelValueBytes: 2048,
  // Amazon Managed Service for Prometheus refuses series with more than 70 labels (its documented quota).
  maxLabelsPerSeries: 70,
};
