/**
 * Summaries (the specification's "Summaries"): one `{quantile}` series per
 * quantile in ascending order, then `_sum` and `_count`. Summaries have no
 * temporality: their points are cumulative.
 */
import type { SummaryDataPoint } from '../otlp/types.js';
import { int64ToNumber } from './int64.js';
import { formatFloat } from './labels.js';
import { hasNoRecordedValue, type PointWriter, pushSample } from './point-context.js';

export const summaryPoints: PointWriter<SummaryDataPoint> = {
  // `__name__` and `quantile`.
  extraLabels: 2,
  write(context, family, p, labels, timestampMs, out) {
    const stale = hasNoRecordedValue(p);
    const quantiles = [...(p.quantileValues ?? [])].sort((a, b) => (a.quantile ?? 0) - (b.quantile ?? 0));
    for (const q of quantiles) {
      const id = context.ids.seriesOf(labels, family.name, { name: 'quantile', value: formatFloat(q.quantile ?? 0) });
      pushSample(out, id, family, 'quantile', timestampMs, q.value ?? 0, stale);
    }
    const names = context.ids.namesOf(family);
    pushSample(out, context.ids.seriesOf(labels, names.sum), family, 'sum', timestampMs, p.sum ?? 0, stale);
    const count = int64ToNumber(p.count);
    pushSample(out, context.ids.seriesOf(labels, names.count), family, 'count', timestampMs, count, stale);
    return true;
  },
};
