/**
 * The labels a resource and an instrumentation scope give every series, as
 * the specification's "Resource Attributes" and "Instrumentation Scope"
 * sections say: `job` (`service.namespace/service.name`) and `instance`, a
 * `target_info` series holding the other resource attributes, promoted
 * resource attributes, `otel_scope_name` / `otel_scope_version`, and the
 * configured external labels.
 *
 * Departure from the specification, on purpose: `instance` falls back to
 * `faas.instance` (Lambda's log stream name, unique per execution
 * environment) when `service.instance.id` is absent, because an empty
 * instance would merge the series of concurrent environments.
 */
import type { Resource } from '../otlp/types.js';
import type { LabelLimits } from './label-limits.js';
import { anyValueToString, attributesToLabels, type Label, labelsKey, sortedLabels } from './labels.js';
import { sanitizeLabelName } from './names.js';
import type { TranslateOptions } from './options.js';
import type { MetricFamily, SeriesSample } from './series.js';

/** Resource attributes that become `job` and `instance` rather than `target_info` labels. */
const IDENTIFYING_ATTRIBUTES = new Set(['service.name', 'service.namespace', 'service.instance.id']);

const TARGET_INFO: MetricFamily = { name: 'target_info', type: 'gauge', help: 'Target metadata', unit: '' };

export interface ResourceLabels {
  /** `job` and `instance`. */
  readonly identity: Map<string, string>;
  /** The other attributes, for `target_info`. */
  readonly infoLabels: Map<string, string>;
  /** Attributes named in OBSERVED_PROMETHEUS_PROMOTE_RESOURCE_ATTRIBUTES, for every series. */
  readonly promoted: Map<string, string>;
}

export interface ScopeContext {
  /** Sorted labels every point of this scope starts from (external, promoted, scope, job, instance). */
  readonly base: Label[];
  readonly baseMap: Map<string, string>;
  /** job and instance, which point attributes may not replace. */
  readonly identity: readonly Label[];
  readonly keyPrefix: string;
}

export function resourceLabels(
  resource: Resource | null | undefined,
  promotedAttributes: readonly string[],
): ResourceLabels {
  const attrs = new Map<string, string>();
  for (const kv of resource?.attributes ?? []) attrs.set(kv.key, anyValueToString(kv.value));
  const name = attrs.get('service.name') ?? '';
  const namespace = attrs.get('service.namespace') ?? '';
  const job = namespace !== '' && name !== '' ? `${namespace}/${name}` : name || namespace;
  const instance = attrs.get('service.instance.id') || attrs.get('faas.instance') || '';
  const identity = new Map<string, string>();
  if (job !== '') identity.set('job', job);
  if (instance !== '') identity.set('instance', instance);
  const infoLabels = new Map<string, string>();
  attributesToLabels(
    (resource?.attributes ?? []).filter((kv) => !IDENTIFYING_ATTRIBUTES.has(kv.key)),
    infoLabels,
  );
  infoLabels.delete('job');
  infoLabels.delete('instance');
  const promoted = new Map<string, string>();
  for (const key of promotedAttributes) {
    const value = attrs.get(key);
    if (value) promoted.set(sanitizeLabelName(key), value);
  }
  return { identity, infoLabels, promoted };
}

/** The labels every point of one scope starts from; job and instance win over the others. */
export function scopeContext(
  resource: ResourceLabels,
  scope: { name?: string; version?: string } | null | undefined,
  options: TranslateOptions,
  limits: LabelLimits,
): ScopeContext {
  const map = new Map<string, string>();
  for (const l of options.externalLabels) map.set(l.name, l.value);
  for (const [k, v] of resource.promoted) map.set(k, v);
  if (options.scopeLabels) {
    if (scope?.name) map.set('otel_scope_name', scope.name);
    if (scope?.version) map.set('otel_scope_version', scope.version);
  }
  for (const [k, v] of resource.identity) map.set(k, v);
  const base = limits.limitValues(sortedLabels(map));
  const identity = limits.limitValues(sortedLabels(resource.identity));
  for (const l of base) map.set(l.name, l.value);
  return { base, baseMap: map, identity, keyPrefix: labelsKey(base) };
}

/**
 * The resource's `target_info` sample at the time of its latest point, or
 * undefined when it has no other attributes or too many labels (dropped and
 * counted). External labels are added as to any series.
 */
export function targetInfoSample(
  resource: ResourceLabels,
  timestampMs: number,
  options: TranslateOptions,
  limits: LabelLimits,
): SeriesSample | undefined {
  if (resource.infoLabels.size === 0) return undefined;
  const map = new Map([...resource.infoLabels, ...resource.identity]);
  for (const l of options.externalLabels) if (!map.has(l.name)) map.set(l.name, l.value);
  map.set('__name__', TARGET_INFO.name);
  const labels = limits.limitValues(sortedLabels(map));
  if (!limits.fits(labels, 0, TARGET_INFO.name)) return undefined;
  return {
    key: `target_info\u0002${labelsKey(labels)}`,
    labels,
    family: TARGET_INFO,
    role: 'value',
    timestampMs,
    value: 1,
  };
}
