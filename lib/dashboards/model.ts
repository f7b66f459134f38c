/**
 * A small typed builder for the Grafana dashboard JSON model (schema 39,
 * Grafana 10.x as Amazon Managed Grafana runs it): time series and stat
 * panels on Prometheus queries, collapsible rows laid out on Grafana's
 * 24-column grid, and query variables.
 */

export interface PrometheusQuery {
  /** PromQL; may use the dashboard's variables (`$function`) and `$__rate_interval`. */
  readonly expr: string;
  /** Legend, e.g. `{{job}}`. */
  readonly legend?: string;
}

export type PanelKind = 'timeseries' | 'stat';

export interface PanelSpec {
  readonly kind: PanelKind;
  readonly title: string;
  readonly description?: string;
  /** Grafana unit id: `reqps`, `s`, `bytes`, `percentunit`, `short`. */
  readonly unit: string;
  readonly queries: readonly PrometheusQuery[];
  /** Width in grid columns (of 24). */
  readonly width?: number;
  readonly height?: number;
  /** Stat panels: how the series are reduced. */
  readonly reducer?: 'lastNotNull' | 'mean' | 'max' | 'sum';
}

export interface DataSourceRef {
  readonly type: 'prometheus';
  readonly uid: string;
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** `label_values(<metric>, <label>)`. */
  readonly query: string;
  readonly multi: boolean;
  readonly includeAll: boolean;
}

/** The JSON model Grafana's `/api/dashboards/db` takes. Only the fields set here are typed. */
export interface DashboardModel {
  readonly uid: string;
  readonly title: string;
  readonly tags: string[];
  readonly timezone: string;
  readonly schemaVersion: number;
  readonly editable: boolean;
  readonly refresh: string;
  readonly time: { from: string; to: string };
  readonly templating: { list: Record<string, unknown>[] };
  readonly panels: Record<string, unknown>[];
}

export interface DashboardDefinition {
  readonly uid: string;
  readonly title: string;
  readonly rows: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[];
  readonly variables: readonly VariableSpec[];
  readonly tags: readonly string[];
}

const GRID_WIDTH = 24;

export class DashboardBuilder {
  private readonly rows: { title: string; panels: PanelSpec[] }[] = [];
  private readonly variables: VariableSpec[] = [];
  private readonly tags: string[] = [];

  constructor(
    private readonly uid: string,
    private readonly title: string,
  ) {
    if (!/^[a-zA-Z0-9_-]{1,40}$/.test(uid)) throw new Error(`dashboard uid "${uid}" must be 1 to 40 of [a-zA-Z0-9_-]`);
  }

  tag(...tags: string[]): this {
    this.tags.push(...tags);
    return this;
  }

  variable(variable: VariableSpec): this {
    this.variables.push(variable);
    return this;
  }

  row(title: string, ...panels: PanelSpec[]): this {
    this.rows.push({ title, panels });
    return this;
  }

  /** The definition, with every panel and query reachable from code. */
  definition(): DashboardDefinition {
    return { uid: this.uid, title: this.title, rows: this.rows, variables: this.variables, tags: this.tags };
  }
}

/** Every query of a dashboard, with the panel it belongs to. */
export function dashboardQueries(definition: DashboardDefinition): { panel: string; query: PrometheusQuery }[] {
  return definition.rows.flatMap((row) =>
    row.panels.flatMap((panel) => panel.queries.map((query) => ({ panel: `${row.title} / ${panel.title}`, query }))),
  );
}

/**
 * A query as Prometheus itself would take it: the dashboard's variables
 * replaced with regular expressions of the given values, `$__rate_interval`
 * with a fixed window.
 */
export function expandQuery(expr: string, values: Readonly<Record<string, string>>, rateInterval = '5m'): string {
  let out = expr.replace(/\$__rate_interval/g, rateInterval);
  for (const [name, value] of Object.entries(values)) out = out.split(`$${name}`).join(value);
  return out;
}

/** The Grafana JSON model of a dashboard, its panels querying `datasource`. */
export function renderDashboard(definition: DashboardDefinition, datasource: DataSourceRef): DashboardModel {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of definition.rows) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: GRID_WIDTH, h: 1 },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? (panel.kind === 'stat' ? 6 : 12);
      const h = panel.height ?? (panel.kind === 'stat' ? 4 : 8);
      if (x + w > GRID_WIDTH) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(renderPanel(id++, panel, datasource, { x, y, w, h }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: definition.uid,
    title: definition.title,
    tags: [...definition.tags],
    timezone: 'browser',
    schemaVersion: 39,
    editable: true,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: definition.variables.map((v) => ({
        type: 'query',
        name: v.name,
        label: v.label,
        datasource,
        query: { query: v.query, refId: `${v.name}-query` },
        definition: v.query,
        refresh: 2,
        sort: 1,
        multi: v.multi,
        includeAll: v.includeAll,
        ...(v.includeAll ? { allValue: '.+', current: { text: 'All', value: '$__all' } } : {}),
      })),
    },
    panels,
  };
}

function renderPanel(
  id: number,
  panel: PanelSpec,
  datasource: DataSourceRef,
  gridPos: { x: number; y: number; w: number; h: number },
): Record<string, unknown> {
  const targets = panel.queries.map((query, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource,
    expr: query.expr,
    legendFormat: query.legend ?? '__auto',
    range: true,
    editorMode: 'code',
  }));
  const base = {
    id,
    type: panel.kind,
    title: panel.title,
    description: panel.description ?? '',
    datasource,
    gridPos,
    targets,
    fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
  };
  if (panel.kind === 'stat') {
    return {
      ...base,
      options: {
        reduceOptions: { calcs: [panel.reducer ?? 'lastNotNull'], fields: '', values: false },
        colorMode: 'value',
        graphMode: 'area',
        textMode: 'auto',
      },
    };
  }
  return {
    ...base,
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}
