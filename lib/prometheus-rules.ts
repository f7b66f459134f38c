/**
 * Recording and alerting rules for observed functions, in the Prometheus
 * rules file format Amazon Managed Service for Prometheus takes. They use the
 * series the extension writes from the Lambda platform's telemetry (the
 * OpenTelemetry FaaS metrics, named as the OpenTelemetry "Prometheus and
 * OpenMetrics compatibility" specification says): faas_invocations_total
 * (successful invocations), faas_errors_total, faas_timeouts_total,
 * faas_coldstarts_total and faas_invoke_duration_seconds (histogram), with
 * the function in the `job` label (service.name, the function name unless
 * OTEL_SERVICE_NAME says otherwise).
 *
 * Throttled invocations never reach an execution environment, so neither the
 * extension nor any function-side SDK can count them. The throttle rule
 * therefore warns before throttling starts: the average number of
 * concurrently running invocations (Little's law: seconds of invocation per
 * second) against the concurrency limit the functions run under.
 */

/** The Prometheus series names the rules and dashboards read. */
export const METRICS = {
  invocations: 'faas_invocations_total',
  errors: 'faas_errors_total',
  timeouts: 'faas_timeouts_total',
  coldStarts: 'faas_coldstarts_total',
  invokeDurationBucket: 'faas_invoke_duration_seconds_bucket',
  invokeDurationSum: 'faas_invoke_duration_seconds_sum',
  invokeDurationCount: 'faas_invoke_duration_seconds_count',
  initDurationBucket: 'faas_init_duration_seconds_bucket',
  memUsageBucket: 'faas_mem_usage_bytes_bucket',
  memUsageSum: 'faas_mem_usage_bytes_sum',
  memUsageCount: 'faas_mem_usage_bytes_count',
  postRuntimeDurationBucket: 'aws_lambda_post_runtime_duration_seconds_bucket',
  postRuntimeDurationSum: 'aws_lambda_post_runtime_duration_seconds_sum',
  postRuntimeDurationCount: 'aws_lambda_post_runtime_duration_seconds_count',
} as const;

/** The label that names the function. */
export const FUNCTION_LABEL = 'job';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

export interface LambdaAlertThresholds {
  /** Share of invocations that fail (errors and timeouts). */
  readonly errorRatio: number;
  /** p99 invocation duration, seconds. */
  readonly p99DurationSeconds: number;
  /** Share of invocations that are cold starts. */
  readonly coldStartRatio: number;
  /** Concurrency the functions run under (reserved concurrency, or the account's limit). */
  readonly concurrencyLimit: number;
  /** Share of `concurrencyLimit` in use at which the throttle warning fires. */
  readonly concurrencyWarningRatio: number;
}

export const DEFAULT_THRESHOLDS: LambdaAlertThresholds = {
  errorRatio: 0.05,
  p99DurationSeconds: 10,
  coldStartRatio: 0.25,
  concurrencyLimit: 1000,
  concurrencyWarningRatio: 0.8,
};

const by = `by (${FUNCTION_LABEL})`;

/** Recording rule names, so dashboards and alerts share one definition. */
export const RECORDED = {
  requests: `${FUNCTION_LABEL}:faas_requests:rate5m`,
  errors: `${FUNCTION_LABEL}:faas_errors:rate5m`,
  errorRatio: `${FUNCTION_LABEL}:faas_error_ratio:rate5m`,
  p99: `${FUNCTION_LABEL}:faas_invoke_duration_seconds:p99_5m`,
  coldStartRatio: `${FUNCTION_LABEL}:faas_coldstart_ratio:rate5m`,
  concurrency: `${FUNCTION_LABEL}:faas_concurrency:avg5m`,
} as const;

/** The rule groups for observed functions. */
export function lambdaRuleGroups(thresholds: LambdaAlertThresholds = DEFAULT_THRESHOLDS): RuleGroup[] {
  const rate = (metric: string) => `sum ${by} (rate(${metric}[5m]))`;
  const recording: RecordingRule[] = [
    {
      record: RECORDED.requests,
      expr: `${rate(METRICS.invocations)} + ${rate(METRICS.errors)} + ${rate(METRICS.timeouts)}`,
    },
    { record: RECORDED.errors, expr: `${rate(METRICS.errors)} + ${rate(METRICS.timeouts)}` },
    { record: RECORDED.errorRatio, expr: `${RECORDED.errors} / ${RECORDED.requests}` },
    {
      record: RECORDED.p99,
      expr: `histogram_quantile(0.99, sum by (${FUNCTION_LABEL}, le) (rate(${METRICS.invokeDurationBucket}[5m])))`,
    },
    { record: RECORDED.coldStartRatio, expr: `${rate(METRICS.coldStarts)} / ${RECORDED.requests}` },
    { record: RECORDED.concurrency, expr: rate(METRICS.invokeDurationSum) },
  ];
  const fn = `{{ $labels.${FUNCTION_LABEL} }}`;
  const alerting: AlertingRule[] = [
    {
      alert: 'LambdaHighErrorRate',
      expr: `${RECORDED.errorRatio} > ${thresholds.errorRatio}`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `Lambda function ${fn} fails more than ${percent(thresholds.errorRatio)} of its invocations`,
        description: `{{ $value | humanizePercentage }} of the invocations of ${fn} ended in an error or a timeout over the last 5 minutes.`,
      },
    },
    {
      alert: 'LambdaTimeouts',
      expr: `sum ${by} (increase(${METRICS.timeouts}[5m])) > 0`,
      for: '0m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Lambda function ${fn} timed out`,
        description: `${fn} timed out {{ $value | humanize }} times in the last 5 minutes.`,
      },
    },
    {
      alert: 'LambdaHighP99Duration',
      expr: `${RECORDED.p99} > ${thresholds.p99DurationSeconds}`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Lambda function ${fn} p99 duration is above ${thresholds.p99DurationSeconds}s`,
        description: `The 99th percentile invocation duration of ${fn} is {{ $value | humanizeDuration }}.`,
      },
    },
    {
      alert: 'LambdaHighColdStartRate',
      expr: `${RECORDED.coldStartRatio} > ${thresholds.coldStartRatio}`,
      for: '15m',
      labels: { severity: 'info' },
      annotations: {
        summary: `Lambda function ${fn} cold-starts on more than ${percent(thresholds.coldStartRatio)} of its invocations`,
        description: `{{ $value | humanizePercentage }} of the invocations of ${fn} were cold starts over the last 5 minutes.`,
      },
    },
    {
      alert: 'LambdaThrottleRisk',
      expr: `${RECORDED.concurrency} > ${round(thresholds.concurrencyLimit * thresholds.concurrencyWarningRatio)}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Lambda function ${fn} is close to its concurrency limit and about to be throttled`,
        description: `${fn} runs {{ $value | humanize }} invocations at once on average, above ${percent(thresholds.concurrencyWarningRatio)} of the limit of ${thresholds.concurrencyLimit}.`,
      },
    },
  ];
  return [
    { name: 'observed-lambda-recording', interval: '1m', rules: recording },
    { name: 'observed-lambda-alerts', interval: '1m', rules: alerting },
  ];
}

function percent(ratio: number): string {
  return `${round(ratio * 100)}%`;
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** The rules file: YAML with every scalar written as a double-quoted (JSON-compatible) string. */
export function renderRulesFile(groups: readonly RuleGroup[]): string {
  const q = (value: string) => JSON.stringify(value);
  const lines: string[] = ['groups:'];
  for (const group of groups) {
    lines.push(`  - name: ${q(group.name)}`);
    if (group.interval !== undefined) lines.push(`    interval: ${q(group.interval)}`);
    lines.push('    rules:');
    for (const rule of group.rules) {
      if ('record' in rule) {
        lines.push(`      - record: ${q(rule.record)}`, `        expr: ${q(rule.expr)}`);
        continue;
      }
      lines.push(`      - alert: ${q(rule.alert)}`, `        expr: ${q(rule.expr)}`, `        for: ${q(rule.for)}`);
      lines.push('        labels:');
      for (const [k, v] of Object.entries(rule.labels)) lines.push(`          ${k}: ${q(v)}`);
      lines.push('        annotations:');
      for (const [k, v] of Object.entries(rule.annotations)) lines.push(`          ${k}: ${q(v)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
