/**
 * The dashboards GrafanaWorkspace uploads: an overview of every observed
 * function and a drill-down into one. Queries read the series the extension
 * writes (prometheus-rules.ts, METRICS) and select functions by `job`.
 */
import { FUNCTION_LABEL, METRICS } from '../prometheus-rules.js';
import {
  DashboardBuilder,
  type DashboardDefinition,
  type PanelSpec,
  type PrometheusQuery,
  type VariableSpec,
} from './model.js';

const FN = FUNCTION_LABEL;

function sel(metric: string, matcher: string): string {
  return `${metric}{${FN}=~"${matcher}"}`;
}

function rateBy(metric: string, matcher: string, labels = FN): string {
  return `sum by (${labels}) (rate(${sel(metric, matcher)}[$__rate_interval]))`;
}

/** Invocations per second, successful or not (faas_invocations_total counts successes only). */
function requests(matcher: string): string {
  return [METRICS.invocations, METRICS.errors, METRICS.timeouts].map((m) => rateBy(m, matcher)).join(' + ');
}

function failures(matcher: string): string {
  return [METRICS.errors, METRICS.timeouts].map((m) => rateBy(m, matcher)).join(' + ');
}

/** The share of invocations that failed (errors and timeouts). */
function errorRatio(matcher: string): string {
  return `(${failures(matcher)}) / (${requests(matcher)})`;
}

/** The dashboard's `function` variable: every observed function (`job`), one or several of them at once. */
function functionVariable(several: boolean): VariableSpec {
  return {
    name: 'function',
    label: 'Function',
    query: `label_values(${METRICS.invocations}, ${FN})`,
    multi: several,
    includeAll: several,
  };
}

function quantile(q: number, bucket: string, matcher: string): string {
  return `histogram_quantile(${q}, ${rateBy(bucket, matcher, `${FN}, le`)})`;
}

/**
 * Percentile of a histogram that gets one observation per execution environment (init duration): the
 * environment's series holds it from its first sample, so rate() never sees it. Instead, the latest
 * histogram of every environment reporting in the window.
 */
function perEnvironmentQuantile(q: number, bucket: string, matcher: string): string {
  return `histogram_quantile(${q}, sum by (${FN}, le) (last_over_time(${sel(bucket, matcher)}[$__rate_interval])))`;
}

function mean(sum: string, count: string, matcher: string): string {
  return `${rateBy(sum, matcher)} / ${rateBy(count, matcher)}`;
}

const legend = `{{${FN}}}`;

function timeseries(title: string, unit: string, queries: PrometheusQuery[], description?: string): PanelSpec {
  return { kind: 'timeseries', title, unit, queries, description };
}

function stat(title: string, unit: string, expr: string, description?: string): PanelSpec {
  return { kind: 'stat', title, unit, queries: [{ expr, legend }], description };
}

function percentiles(bucket: string, matcher: string, perFunction: boolean): PrometheusQuery[] {
  return [0.5, 0.9, 0.99].map((q) => ({
    expr: quantile(q, bucket, matcher),
    legend: perFunction ? `p${q * 100} ${legend}` : `p${q * 100}`,
  }));
}

/** Every observed function side by side. */
export function lambdaOverviewDashboard(uid = 'observed-lambda-overview'): DashboardDefinition {
  const m = '$function';
  return new DashboardBuilder(uid, 'Lambda overview')
    .tag('observed-lambda', 'lambda')
    .variable(functionVariable(true))
    .row(
      'Traffic and errors',
      timeseries('Invocations', 'reqps', [{ expr: requests(m), legend }], 'Invocations per second, successful or not.'),
      timeseries('Errors and timeouts', 'reqps', [{ expr: failures(m), legend }]),
      timeseries('Error ratio', 'percentunit', [{ expr: errorRatio(m), legend }]),
      timeseries('Timeouts', 'reqps', [{ expr: rateBy(METRICS.timeouts, m), legend }]),
    )
    .row(
      'Duration',
      timeseries('Duration p99', 's', [{ expr: quantile(0.99, METRICS.invokeDurationBucket, m), legend }]),
      timeseries('Duration percentiles (all selected functions)', 's', [
        ...[0.5, 0.9, 0.99].map((q) => ({
          expr: `histogram_quantile(${q}, sum by (le) (rate(${sel(METRICS.invokeDurationBucket, m)}[$__rate_interval])))`,
          legend: `p${q * 100}`,
        })),
      ]),
      timeseries(
        'Concurrency',
        'short',
        [{ expr: rateBy(METRICS.invokeDurationSum, m), legend }],
        'Average invocations running at once: seconds of invocation per second.',
      ),
    )
    .row(
      'Cold starts',
      timeseries('Cold starts', 'reqps', [{ expr: rateBy(METRICS.coldStarts, m), legend }]),
      timeseries('Cold start ratio', 'percentunit', [
        { expr: `${rateBy(METRICS.coldStarts, m)} / (${requests(m)})`, legend },
      ]),
      timeseries(
        'Init duration p99',
        's',
        [{ expr: perEnvironmentQuantile(0.99, METRICS.initDurationBucket, m), legend }],
        'Init duration of the execution environments reporting at the time.',
      ),
    )
    .row(
      'Memory and extension overhead',
      timeseries('Max memory used p99', 'bytes', [{ expr: quantile(0.99, METRICS.memUsageBucket, m), legend }]),
      timeseries(
        'Extension overhead (mean)',
        's',
        [{ expr: mean(METRICS.postRuntimeDurationSum, METRICS.postRuntimeDurationCount, m), legend }],
        'Time the extensions added after the function returned (post-runtime duration), per invocation.',
      ),
    )
    .definition();
}

/** One function in detail. */
export function lambdaFunctionDashboard(uid = 'observed-lambda-function'): DashboardDefinition {
  const m = '$function';
  return new DashboardBuilder(uid, 'Lambda function')
    .tag('observed-lambda', 'lambda')
    .variable(functionVariable(false))
    .row(
      'Summary',
      stat('Invocations / s', 'reqps', requests(m)),
      stat('Error ratio', 'percentunit', errorRatio(m)),
      stat('Duration p99', 's', quantile(0.99, METRICS.invokeDurationBucket, m)),
      stat('Cold start ratio', 'percentunit', `${rateBy(METRICS.coldStarts, m)} / (${requests(m)})`),
    )
    .row(
      'Invocations',
      timeseries('Invocations by outcome', 'reqps', [
        { expr: rateBy(METRICS.invocations, m), legend: 'success' },
        { expr: rateBy(METRICS.errors, m), legend: 'error' },
        { expr: rateBy(METRICS.timeouts, m), legend: 'timeout' },
      ]),
      timeseries('Duration percentiles', 's', percentiles(METRICS.invokeDurationBucket, m, false)),
    )
    .row(
      'Execution environments',
      timeseries('Cold starts', 'reqps', [{ expr: rateBy(METRICS.coldStarts, m), legend: 'cold starts' }]),
      timeseries(
        'Init duration percentiles',
        's',
        [0.5, 0.9, 0.99].map((q) => ({
          expr: perEnvironmentQuantile(q, METRICS.initDurationBucket, m),
          legend: `p${q * 100}`,
        })),
        'Init duration of the execution environments reporting at the time.',
      ),
      timeseries(
        'Environments reporting',
        'short',
        [{ expr: `count by (${FN}) (${sel(METRICS.invocations, m)})`, legend: 'environments' }],
        'Execution environments with live series.',
      ),
      timeseries('Concurrency', 'short', [{ expr: rateBy(METRICS.invokeDurationSum, m), legend: 'concurrency' }]),
    )
    .row(
      'Memory and extension overhead',
      timeseries('Max memory used', 'bytes', [
        ...percentiles(METRICS.memUsageBucket, m, false),
        { expr: mean(METRICS.memUsageSum, METRICS.memUsageCount, m), legend: 'mean' },
      ]),
      timeseries('Extension overhead', 's', [
        ...percentiles(METRICS.postRuntimeDurationBucket, m, false),
        { expr: mean(METRICS.postRuntimeDurationSum, METRICS.postRuntimeDurationCount, m), legend: 'mean' },
      ]),
    )
    .definition();
}

/** The dashboards GrafanaWorkspace uploads, in order. */
export function lambdaDashboards(): DashboardDefinition[] {
  return [lambdaOverviewDashboard(), lambdaFunctionDashboard()];
}
