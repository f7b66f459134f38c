/**
 * Metric families: an OTLP metric's Prometheus name (names.ts), type, help
 * and unit, remembered by name. A name first seen with one type keeps it: a
 * later metric of the same name and another type is dropped and counted, as a
 * receiver would refuse a family whose samples disagree on their type.
 */
import type { Metric } from '../otlp/types.js';
import { anyValueToString } from './labels.js';
import { metricFamilyName, unitWord } from './names.js';
import type { TranslationProblems } from './problems.js';
import type { MetricFamily, MetricType } from './series.js';

/** Names worked out and kept; past this the cache starts again. */
const NAME_CACHE_LIMIT = 50_000;

export class MetricFamilies {
  private readonly byName = new Map<string, MetricFamily>();
  private readonly nameOf = new Map<string, string>();

  constructor(private readonly problems: TranslationProblems) {}

  /** The metric's family, or undefined (dropped and counted) when its name is taken by another type. */
  of(metric: Metric, type: MetricType, kind: 'counter' | 'gauge' | 'other'): MetricFamily | undefined {
    // The same metrics come with every export: their Prometheus names are worked out once.
    const nameKey = `${metric.name}\u0000${metric.unit}\u0000${kind}`;
    let name = this.nameOf.get(nameKey);
    if (name === undefined) {
      name = metricFamilyName(metric.name ?? '', metric.unit, kind);
      if (this.nameOf.size >= NAME_CACHE_LIMIT) this.nameOf.clear();
      this.nameOf.set(nameKey, name);
    }
    const known = this.byName.get(name);
    if (known !== undefined) {
      if (known.type === type) return known;
      this.problems.drop(
        'type_conflict',
        name,
        `metric ${name} arrived as ${type} but was first seen as ${known.type}; dropped`,
      );
      return undefined;
    }
    const family: MetricFamily = {
      name,
      type,
      help: metric.description ?? '',
      unit: unitWord(metric.unit, kind === 'gauge'),
    };
    this.byName.set(name, family);
    return family;
  }
}

/** The type a Prometheus source gave the metric (`prometheus.type` metadata), e.g. `unknown` for untyped gauges. */
export function prometheusType(metric: Metric): string | undefined {
  for (const kv of metric.metadata ?? []) if (kv.key === 'prometheus.type') return anyValueToString(kv.value);
  return undefined;
}
