import { describe, expect, it } from 'vitest';
import { dashboardQueries, expandQuery, lambdaDashboards, renderDashboard } from '../../lib/dashboards/index.js';
import { METRICS } from '../../lib/prometheus-rules.js';
import { requireBinary } from '../support/binaries.js';
import { promtool } from './promtool.js';

const promtoolBinary = requireBinary('promtool');
const datasource = { type: 'prometheus' as const, uid: 'observed-lambda-amp' };

describe('Lambda dashboards', () => {
  const dashboards = lambdaDashboards();

  it('cover invocations, errors, duration percentiles, cold starts, memory and extension overhead', () => {
    const all = dashboards.flatMap((d) => dashboardQueries(d).map((q) => q.query.expr)).join('\n');
    for (const metric of [
      METRICS.invocations,
      METRICS.errors,
      METRICS.timeouts,
      METRICS.coldStarts,
      METRICS.invokeDurationBucket,
      METRICS.memUsageBucket,
      METRICS.postRuntimeDurationSum,
    ]) {
      expect(all).toContain(metric);
    }
    expect(dashboards.map((d) => d.uid)).toEqual(['observed-lambda-overview', 'observed-lambda-function']);
  });

  it('render to a Grafana model with unique ids, panels inside the 24-column grid, and the data source on every query', () => {
    for (const definition of dashboards) {
      const model = renderDashboard(definition, datasource);
      const ids = model.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const boxes = model.panels.map((p) => p.gridPos as { x: number; y: number; w: number; h: number });
      for (const [i, a] of boxes.entries()) {
        expect(a.x + a.w).toBeLessThanOrEqual(24);
        for (const b of boxes.slice(i + 1)) {
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${JSON.stringify(a)} overlaps ${JSON.stringify(b)}`).toBe(false);
        }
      }
      for (const panel of model.panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource).toEqual(datasource);
        for (const target of panel.targets as { datasource: unknown; expr: string }[]) {
          expect(target.datasource).toEqual(datasource);
          expect(target.expr).toContain('$function');
        }
      }
      expect(model.templating.list[0]).toMatchObject({ name: 'function', type: 'query', datasource });
    }
  });

  it.skipIf(!promtoolBinary)('have only valid PromQL once the variables are expanded', () => {
    const queries = dashboards.flatMap((d) => dashboardQueries(d));
    const rules = [
      'groups:',
      '  - name: dashboard-queries',
      '    rules:',
      ...queries.map(
        (q, i) =>
          `      - record: "dashboard:query_${i}"\n        expr: ${JSON.stringify(expandQuery(q.query.expr, { function: 'api|worker' }))}`,
      ),
      '',
    ].join('\n');
    expect(promtool(promtoolBinary!, ['check', 'rules', 'rules.yml'], { 'rules.yml': rules })).toContain(
      `SUCCESS: ${queries.length} rules found`,
    );
  });
});
