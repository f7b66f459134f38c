/**
 * The full label set and key of every series a point writes, built once and
 * cached by content: the same series come back with every export, so sorting
 * labels and building keys is done on the first sight of a label set only.
 */
import type { KeyValue } from '../otlp/types.js';
import { sameBounds } from './bounds.js';
import type { LabelLimits } from './label-limits.js';
import {
  anyValueToString,
  attributesToLabels,
  formatFloat,
  type Label,
  labelsKey,
  limitLabelValue,
  sortedLabels,
  withLabel,
} from './labels.js';
import type { ScopeContext } from './resource-labels.js';
import type { MetricFamily } from './series.js';

export interface SeriesId {
  readonly labels: Label[];
  readonly key: string;
}

/** The labels of one point (scope base and attributes), and the series built from them so far. */
export interface PointLabels {
  readonly labels: Label[];
  readonly key: string;
  readonly series: Map<string, SeriesId>;
  /** Bucket series by histogram name, valid while the bucket bounds stay the same. */
  readonly buckets: Map<string, { bounds: number[]; ids: SeriesId[] }>;
}

/** Names of a histogram's or summary's companion series. */
export interface FamilyNames {
  readonly bucket: string;
  readonly sum: string;
  readonly count: string;
}

/** Label sets kept; past this the cache starts again, so odd attribute values cannot grow it without bound. */
const POINT_CACHE_LIMIT = 50_000;

export class SeriesIds {
  private readonly pointCache = new Map<string, PointLabels>();
  private readonly familyNames = new Map<string, FamilyNames>();

  constructor(
    private readonly maxLabelValueBytes: number,
    private readonly limits: LabelLimits,
  ) {}

  /** Point labels: the scope's base, then the point's attributes, with job and instance kept. */
  pointLabels(scope: ScopeContext, attributes: KeyValue[] | undefined): PointLabels {
    let signature = scope.keyPrefix;
    if (attributes) {
      // Shortened values in the cache key too, so megabyte attributes are not kept as keys.
      for (const kv of attributes)
        signature += `\u0005${kv.key}\u0000${limitLabelValue(anyValueToString(kv.value), this.maxLabelValueBytes)}`;
    }
    const cached = this.pointCache.get(signature);
    if (cached) return cached;
    let labels: Label[];
    let key: string;
    if (!attributes || attributes.length === 0) {
      labels = scope.base;
      key = scope.keyPrefix;
    } else {
      const map = new Map(scope.baseMap);
      attributesToLabels(attributes, map);
      for (const l of scope.identity) map.set(l.name, l.value);
      labels = this.limits.limitValues(sortedLabels(map));
      key = labelsKey(labels);
    }
    const point: PointLabels = { labels, key, series: new Map(), buckets: new Map() };
    if (this.pointCache.size >= POINT_CACHE_LIMIT) this.pointCache.clear();
    this.pointCache.set(signature, point);
    return point;
  }

  /** One series of a point: `__name__` and perhaps `le` or `quantile`. */
  seriesOf(point: PointLabels, name: string, extra?: Label): SeriesId {
    const cacheKey = extra ? `${name}\u0003${extra.name}\u0003${extra.value}` : name;
    let id = point.series.get(cacheKey);
    if (!id) {
      let labels = withLabel(point.labels, { name: '__name__', value: name });
      if (extra) labels = withLabel(labels, extra);
      id = { labels, key: extra ? `${name}\u0002${point.key}\u0003${extra.value}` : `${name}\u0002${point.key}` };
      point.series.set(cacheKey, id);
    }
    return id;
  }

  /** Bucket series of a histogram point, one per upper bound (the last is +Inf). */
  bucketIds(point: PointLabels, bucketName: string, bounds: number[]): SeriesId[] {
    const cached = point.buckets.get(bucketName);
    if (cached && sameBounds(cached.bounds, bounds)) return cached.ids;
    const ids = bounds.map((b) => this.seriesOf(point, bucketName, { name: 'le', value: formatFloat(b) }));
    point.buckets.set(bucketName, { bounds, ids });
    return ids;
  }

  /** `_bucket`, `_sum` and `_count` names of a family, built once. */
  namesOf(family: MetricFamily): FamilyNames {
    let names = this.familyNames.get(family.name);
    if (!names) {
      names = { bucket: `${family.name}_bucket`, sum: `${family.name}_sum`, count: `${family.name}_count` };
      this.familyNames.set(family.name, names);
    }
    return names;
  }
}
