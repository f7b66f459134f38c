/**
 * Dashboards of one's own for GrafanaWorkspace, in the same typed model as
 * the built-in Lambda dashboards (lib/dashboards/model.ts): rows of time
 * series and stat panels on PromQL queries, and query variables.
 */
import { lambdaFunctionDashboard, lambdaOverviewDashboard } from './dashboards/lambda.js';
import type { DashboardDefinition, PanelSpec, VariableSpec } from './dashboards/model.js';

/** A PromQL query of a panel. */
export interface PanelQuery {
  /** PromQL; may use the dashboard's variables (`$function`) and `$__rate_interval`. */
  readonly expr: string;

  /**
   * Legend of the series, e.g. `{{job}}`.
   * @default - Grafana's automatic legend
   */
  readonly legend?: string;
}

/** Properties shared by every panel. */
export interface PanelProps {
  /** Title of the panel. */
  readonly title: string;

  /** The queries; at least one. */
  readonly queries: PanelQuery[];

  /**
   * Grafana unit id, e.g. `reqps`, `s`, `ms`, `bytes`, `percentunit`, `short`.
   * @default 'short'
   */
  readonly unit?: string;

  /**
   * Description shown in the panel's info tooltip.
   * @default - none
   */
  readonly description?: string;

  /**
   * Width in columns of Grafana's 24-column grid (1 to 24).
   * @default 12 for time series, 6 for stats
   */
  readonly width?: number;

  /**
   * Height in grid rows (1 or more).
   * @default 8 for time series, 4 for stats
   */
  readonly height?: number;
}

/** How a stat panel reduces each series to one value. */
export enum StatReducer {
  /** The last value that is not null. */
  LAST_NOT_NULL = 'lastNotNull',
  /** The mean over the time range. */
  MEAN = 'mean',
  /** The maximum over the time range. */
  MAX = 'max',
  /** The sum over the time range. */
  SUM = 'sum',
}

/** Properties of a stat panel. */
export interface StatPanelProps extends PanelProps {
  /**
   * How each series is reduced to the value shown.
   * @default StatReducer.LAST_NOT_NULL
   */
  readonly reducer?: StatReducer;
}

/** A panel of a dashboard. */
export class DashboardPanel {
  /** A time series graph. */
  public static timeSeries(props: PanelProps): DashboardPanel {
    return new DashboardPanel(panelSpec('timeseries', props));
  }

  /** One big number per series. */
  public static stat(props: StatPanelProps): DashboardPanel {
    return new DashboardPanel({ ...panelSpec('stat', props), reducer: props.reducer });
  }

  /** @internal */
  public static _fromSpec(spec: PanelSpec): DashboardPanel {
    return new DashboardPanel(spec);
  }

  private constructor(
    /** @internal */
    public readonly _spec: PanelSpec,
  ) {}
}

/** A row of panels, laid out left to right and wrapped at the grid's width. */
export interface DashboardRow {
  /** Title of the row. */
  readonly title: string;
  /** The panels; at least one. */
  readonly panels: DashboardPanel[];
}

/** A dashboard variable whose values come from a query, e.g. the functions to show. */
export interface DashboardVariable {
  /** Name used in queries as `$name`. */
  readonly name: string;

  /** `label_values(<metric>, <label>)`, e.g. `label_values(faas_invocations_total, job)`. */
  readonly query: string;

  /**
   * Label shown above the picker.
   * @default - the name
   */
  readonly label?: string;

  /**
   * Whether several values may be picked (queries then get a regular expression: match with `=~`).
   * @default false
   */
  readonly multi?: boolean;

  /**
   * Whether an "All" choice is offered (it matches `.+`).
   * @default false
   */
  readonly includeAll?: boolean;
}

/** Properties of a {@link Dashboard}. */
export interface DashboardProps {
  /** Unique id of the dashboard in the workspace: 1 to 40 of letters, digits, `-` and `_`. */
  readonly uid: string;

  /** Title of the dashboard. */
  readonly title: string;

  /** The rows; at least one. */
  readonly rows: DashboardRow[];

  /**
   * Variables offered at the top of the dashboard.
   * @default - none
   */
  readonly variables?: DashboardVariable[];

  /**
   * Tags of the dashboard.
   * @default - none
   */
  readonly tags?: string[];
}

/** One PromQL query of a dashboard, with the panel that holds it. */
export interface DashboardQuery {
  /** `<row title> / <panel title>`. */
  readonly panel: string;
  /** The PromQL, with the dashboard's variables unexpanded. */
  readonly expr: string;
  /**
   * Legend of the query.
   * @default - none
   */
  readonly legend?: string;
}

/** The Lambda dashboards a GrafanaWorkspace can upload. */
export enum BuiltInDashboard {
  /** Every observed function side by side (uid `observed-lambda-overview`). */
  LAMBDA_OVERVIEW = 'observed-lambda-overview',
  /** One function in detail (uid `observed-lambda-function`). */
  LAMBDA_FUNCTION = 'observed-lambda-function',
}

/** A Grafana dashboard on the workspace's Prometheus data source. */
export class Dashboard {
  /** The definition of a built-in dashboard, e.g. to read its queries. */
  public static builtIn(dashboard: BuiltInDashboard): Dashboard {
    const definition =
      dashboard === BuiltInDashboard.LAMBDA_OVERVIEW ? lambdaOverviewDashboard() : lambdaFunctionDashboard();
    return new Dashboard({
      uid: definition.uid,
      title: definition.title,
      tags: [...definition.tags],
      variables: definition.variables.map((v) => ({ ...v })),
      rows: definition.rows.map((row) => ({ title: row.title, panels: row.panels.map(DashboardPanel._fromSpec) })),
    });
  }

  /** Unique id of the dashboard. */
  public readonly uid: string;

  /** @internal */
  public readonly _definition: DashboardDefinition;

  constructor(props: DashboardProps) {
    this._definition = dashboardDefinition(props);
    this.uid = this._definition.uid;
  }

  /** Every PromQL query of the dashboard, e.g. to test them against a Prometheus holding the extension's series. */
  public queries(): DashboardQuery[] {
    return this._definition.rows.flatMap((row) =>
      row.panels.flatMap((panel) =>
        panel.queries.map((query) => ({
          panel: `${row.title} / ${panel.title}`,
          expr: query.expr,
          legend: query.legend,
        })),
      ),
    );
  }
}

function panelSpec(kind: PanelSpec['kind'], props: PanelProps): PanelSpec {
  const where = `DashboardPanel.${kind === 'stat' ? 'stat' : 'timeSeries'}`;
  if (!props?.title) throw new Error(`${where}: \`title\` is required`);
  if (!props.queries || props.queries.length === 0) {
    throw new Error(`${where} "${props.title}": \`queries\` needs at least one PromQL query`);
  }
  for (const [i, query] of props.queries.entries()) {
    if (!query?.expr?.trim()) throw new Error(`${where} "${props.title}": query ${i + 1} has an empty \`expr\``);
  }
  if (props.width !== undefined && !(Number.isInteger(props.width) && props.width >= 1 && props.width <= 24)) {
    throw new Error(
      `${where} "${props.title}": \`width\` is a whole number of grid columns from 1 to 24; got ${props.width}`,
    );
  }
  if (props.height !== undefined && !(Number.isInteger(props.height) && props.height >= 1)) {
    throw new Error(
      `${where} "${props.title}": \`height\` is a whole number of grid rows, 1 or more; got ${props.height}`,
    );
  }
  return {
    kind,
    title: props.title,
    description: props.description,
    unit: props.unit ?? 'short',
    queries: props.queries.map((q) => ({ expr: q.expr, legend: q.legend })),
    width: props.width,
    height: props.height,
  };
}

function dashboardDefinition(props: DashboardProps): DashboardDefinition {
  if (!props?.uid || !/^[a-zA-Z0-9_-]{1,40}$/.test(props.uid)) {
    throw new Error(`Dashboard: \`uid\` must be 1 to 40 of letters, digits, - and _; got "${props?.uid ?? ''}"`);
  }
  if (!props.title) throw new Error(`Dashboard "${props.uid}": \`title\` is required`);
  if (!props.rows || props.rows.length === 0 || props.rows.some((row) => !row.panels || row.panels.length === 0)) {
    throw new Error(`Dashboard "${props.uid}": \`rows\` needs at least one row, and every row at least one panel`);
  }
  const variables: VariableSpec[] = (props.variables ?? []).map((v) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(v.name ?? '')) {
      throw new Error(`Dashboard "${props.uid}": variable name "${v.name}" must be letters, digits and _`);
    }
    return {
      name: v.name,
      label: v.label ?? v.name,
      query: v.query,
      multi: v.multi ?? false,
      includeAll: v.includeAll ?? false,
    };
  });
  return {
    uid: props.uid,
    title: props.title,
    rows: props.rows.map((row) => ({ title: row.title, panels: row.panels.map((p) => p._spec) })),
    variables,
    tags: props.tags ?? [],
  };
}
