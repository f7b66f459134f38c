/**
 * The two label quotas remote write receivers enforce, applied before a
 * backend refuses a whole request for one series: long values are shortened
 * (OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH) and series with too many labels
 * dropped (OBSERVED_PROMETHEUS_MAX_LABELS), each counted and warned about once.
 */
import { type Label, limitLabelValue } from './labels.js';
import type { TranslateOptions } from './options.js';
import type { TranslationProblems } from './problems.js';

export class LabelLimits {
  constructor(
    private readonly options: TranslateOptions,
    private readonly problems: TranslationProblems,
  ) {}

  /** Label values within the length limit (a copy only when one is shortened). */
  limitValues(labels: Label[]): Label[] {
    const maxBytes = this.options.maxLabelValueBytes;
    let out: Label[] | undefined;
    for (let i = 0; i < labels.length; i++) {
      const value = limitLabelValue(labels[i].value, maxBytes);
      if (value === labels[i].value) continue;
      out ??= labels.slice();
      out[i] = { name: labels[i].name, value };
      this.problems.labelValuesShortened++;
      this.problems.warnOnce(
        `shortened\u0000${labels[i].name}`,
        `label ${labels[i].name} has a value longer than ${maxBytes} bytes; it is sent as its prefix and a hash (OBSERVED_PROMETHEUS_MAX_LABEL_VALUE_LENGTH)`,
      );
    }
    return out ?? labels;
  }

  /**
   * Whether series of `labels` plus `extra` more (`__name__`, and `le` or
   * `quantile`) stay within the label count limit; if not, the point is
   * dropped and counted.
   */
  fits(labels: readonly Label[], extra: number, familyName: string): boolean {
    const count = labels.length + extra;
    if (count <= this.options.maxLabelsPerSeries) return true;
    this.problems.drop(
      'too_many_labels',
      familyName,
      `a series of ${familyName} has ${count} labels, more than ${this.options.maxLabelsPerSeries} (OBSERVED_PROMETHEUS_MAX_LABELS); dropped`,
    );
    return false;
  }
}
