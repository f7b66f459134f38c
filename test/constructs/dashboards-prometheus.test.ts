/**
 * Every dashboard panel's PromQL and every recording rule, run against a real
 * Prometheus filled by the real extension: an ObservedFunction bundle runs in
 * the local Lambda sandbox with the extension layer built from source and
 * writes to Prometheus through remote write. Each query must return data for
 * the function, with finite values.
 */
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardQueries, expandQuery, lambdaDashboards } from '../../lib/dashboards/index.js';
import { ObservedFunction, TelemetryDestination } from '../../lib/index.js';
import { lambdaRuleGroups, type RecordingRule } from '../../lib/prometheus-rules.js';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { removeTestLayer, testLayer } from '../support/extension-layer.js';
import { PrometheusServer } from '../support/prometheus.js';
import { teamDashboard } from './fixtures/team-dashboard.js';
import { newStack } from './helpers.js';

const FUNCTION_NAME = 'checkout';

/** The recording rules with the series they read from other rules replaced by those rules' expressions. */
function recordingRulesInlined(): RecordingRule[] {
  const rules = lambdaRuleGroups()
    .flatMap((g) => g.rules)
    .filter((r): r is RecordingRule => 'record' in r);
  const inlined = new Map<string, string>();
  return rules.map((rule) => {
    let expr = rule.expr;
    for (const [name, definition] of inlined) expr = expr.split(name).join(`(${definition})`);
    inlined.set(rule.record, expr);
    return { record: rule.record, expr };
  });
}

/** Total increase of a counter over all its series, counter resets included, from the raw samples. */
async function counted(prometheus: PrometheusServer, metric: string): Promise<number> {
  const series = (await prometheus.query(`${metric}{job="${FUNCTION_NAME}"}[10m]`)) as unknown as {
    values: [number, string][];
  }[];
  let total = 0;
  for (const { values } of series) {
    let previous = 0;
    for (const [, raw] of values) {
      const value = Number(raw);
      total += value >= previous ? value - previous : value;
      previous = value;
    }
  }
  return total;
}

describe('dashboards and rules against Prometheus filled by the extension', () => {
  let prometheus: PrometheusServer | undefined;
  let live: LambdaEnvironment | undefined;
  let extraInvocations = 0;

  beforeAll(async () => {
    prometheus = await PrometheusServer.start();
    if (!prometheus) return;
    const layerDir = (await testLayer()).layerDir;
    const { app, stack } = newStack();
    const fn = new ObservedFunction(stack, 'Checkout', {
      entry: join(__dirname, 'fixtures', 'checkout-handler.mjs'),
      telemetry: { destinations: [TelemetryDestination.pushgateway({ url: 'http://unused:9091' })] },
    });
    (app as App).synth();
    const props =
      Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)]
        .Properties;
    const codeDir = join(app.outdir, `asset.${String(props.Code.S3Key).replace(/\.zip$/, '')}`);
    const start = () =>
      LambdaEnvironment.start({
        handler: props.Handler,
        codeDir,
        layers: [layerDir],
        functionName: FUNCTION_NAME,
        memorySizeMb: 256,
        timeoutMs: 10_000,
        env: { OBSERVED_REMOTE_WRITE_URL: prometheus!.remoteWriteUrl, OBSERVED_FLUSH: 'end-of-invocation' },
      });
    // Two execution environments one after the other (two cold starts), successes and errors in each.
    let order = 0;
    const invokeSome = async (env: LambdaEnvironment) => {
      for (let i = 0; i < 8; i++) {
        order++;
        const result = await env.invoke({ order, fail: i % 4 === 3, workMs: 5 + (i % 3) * 20 });
        expect(result.status).toBe(i % 4 === 3 ? 'error' : 'success');
      }
    };
    // platform.report of an invocation arrives after it (Telemetry API buffering) and travels with a later
    // flush: successes are invoked until every error of the batch has reached Prometheus (bounded).
    const drain = async (env: LambdaEnvironment, errors: number) => {
      for (let i = 0; i < 20 && (await counted(prometheus!, 'faas_errors_total')) < errors; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await env.invoke({ order: 0 });
        extraInvocations++;
      }
    };
    const first = await start();
    await invokeSome(first);
    await drain(first, 2);
    await first.shutdown();
    live = await start();
    await invokeSome(live);
    await drain(live, 4);
  }, 120_000);

  afterAll(async () => {
    await live?.shutdown();
    await prometheus?.stop();
    removeTestLayer();
  });

  const queries = [
    ...lambdaDashboards().flatMap((d) =>
      dashboardQueries(d).map((q) => ({
        name: `${d.title} / ${q.panel} / ${q.query.legend ?? ''}`,
        expr: q.query.expr,
      })),
    ),
    // A user's own dashboard, through the public model, is held to the same standard.
    ...teamDashboard()
      .queries()
      .map((q) => ({ name: `Checkout team / ${q.panel} / ${q.legend ?? ''}`, expr: q.expr })),
    ...recordingRulesInlined().map((r) => ({ name: `rule ${r.record}`, expr: r.expr })),
  ];

  it('returns data for the function from every query', async (context) => {
    if (!prometheus) return context.skip();
    const empty: string[] = [];
    for (const { name, expr } of queries) {
      const promql = expandQuery(expr, { function: FUNCTION_NAME }, '5m');
      const result = await prometheus.query(promql);
      const values = result.map((r) => Number(r.value?.[1]));
      if (result.length === 0 || values.some((v) => !Number.isFinite(v)))
        empty.push(`${name}: ${promql} -> ${JSON.stringify(result)}`);
    }
    expect(empty).toEqual([]);
    expect(queries.length).toBeGreaterThan(30);
  });

  it('holds what happened: 4 errors, 12 successes and the drain invocations reported so far, 2 cold starts', async (context) => {
    if (!prometheus) return context.skip();
    expect(await counted(prometheus, 'faas_errors_total')).toBe(4);
    expect(await counted(prometheus, 'faas_coldstarts_total')).toBe(2);
    const successes = await counted(prometheus, 'faas_invocations_total');
    expect(successes).toBeGreaterThanOrEqual(12);
    expect(successes).toBeLessThanOrEqual(12 + extraInvocations);
  });
});
