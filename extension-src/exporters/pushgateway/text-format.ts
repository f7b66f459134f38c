/**
 * Prometheus text exposition format 0.0.4, as the Pushgateway parses it:
 * one `# HELP` and `# TYPE` per family, the family's samples together,
 * counters named with their `_total`, histograms as `_bucket{le}`, `_sum`,
 * `_count`, summaries as `{quantile}`, `_sum`, `_count`. No timestamps (the
 * Pushgateway refuses them) and no exemplars (the format has none).
 */
import type { Label } from '../../translate/labels.js';
import type { MetricFamily } from '../../translate/series.js';

export interface TextSample {
  readonly family: MetricFamily;
  /** Sorted, with `__name__`. */
  readonly labels: readonly Label[];
  readonly value: number;
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

const TEXT_TYPES: Record<MetricFamily['type'], string> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  info: 'gauge',
  unknown: 'untyped',
};

/** Renders samples grouped by family; `omit` labels (the grouping key) are left out of the lines. */
export function renderText(samples: Iterable<TextSample>, omit: ReadonlySet<string> = new Set()): string {
  const families = new Map<string, { family: MetricFamily; lines: string[] }>();
  for (const s of samples) {
    let entry = families.get(s.family.name);
    if (!entry) {
      entry = { family: s.family, lines: [] };
      families.set(s.family.name, entry);
    }
    let name = '';
    const parts: string[] = [];
    for (const l of s.labels) {
      if (l.name === '__name__') name = l.value;
      else if (!omit.has(l.name)) parts.push(`${l.name}="${escapeLabelValue(l.value)}"`);
    }
    entry.lines.push(`${name}${parts.length > 0 ? `{${parts.join(',')}}` : ''} ${formatValue(s.value)}`);
  }
  let out = '';
  for (const { family, lines } of families.values()) {
    if (family.help) out += `# HELP ${family.name} ${escapeHelp(family.help)}\n`;
    out += `# TYPE ${family.name} ${TEXT_TYPES[family.type]}\n`;
    out += `${lines.join('\n')}\n`;
  }
  return out;
}
