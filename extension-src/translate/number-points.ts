/**
 * Sums and gauges (the specification's "Sums" and "Gauges"): one sample per
 * point. Monotonic sums are counters and carry their exemplars; delta sums,
 * monotonic or not, become running totals.
 */
import type { NumberDataPoint } from '../otlp/types.js';
import { toPromExemplars } from './exemplars.js';
import { int64ToNumber, nanosToNumber } from './int64.js';
import { hasNoRecordedValue, type PointWriter, pushSample } from './point-context.js';

export const numberPoints: PointWriter<NumberDataPoint> = {
  // `__name__`.
  extraLabels: 1,
  write(context, family, p, labels, timestampMs, out, delta) {
    const id = context.ids.seriesOf(labels, family.name);
    if (hasNoRecordedValue(p)) {
      if (delta) context.deltas.forget(id.key);
      pushSample(out, id, family, 'value', timestampMs, Number.NaN, true);
      return true;
    }
    let value = p.asDouble != null ? p.asDouble : int64ToNumber(p.asInt);
    if (delta) {
      const total = context.deltas.addSum(id.key, nanosToNumber(p.timeUnixNano), value);
      if (total === undefined) {
        context.problems.outOfOrder(family.name);
        return false;
      }
      value = total;
    }
    const exemplars = family.type === 'counter' ? toPromExemplars(p.exemplars) : undefined;
    pushSample(out, id, family, 'value', timestampMs, value, false, exemplars);
    return true;
  },
};
