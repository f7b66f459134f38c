/**
 * End to end: a function in the sandbox records metrics with the real
 * OpenTelemetry SDK (the layer's exec wrapper), the extension built from
 * source receives them, translates them and remote-writes them to a real
 * Prometheus before each freeze. PromQL must give back exactly what the
 * invocations recorded, for delta and cumulative SDK temporality, and after
 * SHUTDOWN the environment's series are gone from instant queries. The same
 * function with OBSERVED_PUSHGATEWAY_URL leaves its totals in a real
 * Pushgateway under its job/instance group, deleted at SHUTDOWN when asked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../../sandbox/index.js';
import { buildLayer } from '../../../../scripts/build-extension.js';
import { buildInstrumentationLayer, WRAPPER_NAME } from '../../../../scripts/build-instrumentation.js';
import { findBinary, requireBinary } from '../../../support/binaries.js';
import { PrometheusServer, PushgatewayServer } from '../../../support/prometheus.js';
import { classicQuantile, sum } from './expected.js';
import { find, parseText } from './text-parse.js';

const available = findBinary('prometheus') !== undefined || requireBinary('prometheus') !== undefined;
const pushgatewayAvailable =
  findBinary('prometheus-pushgateway') !== undefined || requireBinary('prometheus-pushgateway') !== undefined;
const CODE = join(__dirname, 'fixtures', 'orders-fn');
const BOUNDS = [0.1, 0.5, 1, 2.5];
const METHODS = ['card', 'invoice'] as const;

interface Order {
  method: (typeof METHODS)[number];
  latency: number;
}

interface InvocationEvent {
  orders: Order[];
  openChange: number;
  basket: number;
}

/** Deterministic invocations: dyadic latencies and basket values add up exactly. */
function invocation(i: number): InvocationEvent {
  const orders: Order[] = [];
  for (let k = 0; k < 2 + (i % 3); k++) {
    orders.push({ method: METHODS[(i + k) % 2], latency: [0.0625, 0.375, 0.75, 2, 3.5][(i * 3 + k) % 5] });
  }
  return { orders, openChange: (i % 2 === 0 ? 3 : -1) * (i + 1), basket: 10 + i * 2.25 };
}

describe.skipIf(!available)('function metrics through the extension to a real Prometheus', () => {
  let prom: PrometheusServer;
  let layerRoot: string;
  let layerDir: string;

  beforeAll(async () => {
    layerRoot = mkdtempSync(join(tmpdir(), 'observed-rw-layer-'));
    const [server, built] = await Promise.all([PrometheusServer.start(), buildLayer(layerRoot)]);
    prom = server as PrometheusServer;
    layerDir = built.layerDir;
    await buildInstrumentationLayer(layerDir, join(layerRoot, 'maps'));
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    if (layerRoot) rmSync(layerRoot, { recursive: true, force: true });
  });

  /**
   * Runs `body` with the orders function (the layer's exec wrapper, metrics only, flushed after every invocation),
   * shut down afterwards when `body` did not get that far (a second shutdown only returns the first one's result).
   */
  async function withOrdersFunction(
    functionName: string,
    temporality: 'delta' | 'cumulative',
    exporterEnv: Record<string, string>,
    body: (env: LambdaEnvironment) => Promise<void>,
  ): Promise<void> {
    const env = await LambdaEnvironment.start({
      handler: 'index.handler',
      codeDir: CODE,
      functionName,
      region: 'eu-west-1',
      layers: [layerDir],
      timeoutMs: 10_000,
      env: {
        AWS_LAMBDA_EXEC_WRAPPER: join(layerDir, WRAPPER_NAME),
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: temporality,
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OBSERVED_FLUSH: 'end-of-invocation',
        OBSERVED_LOG_LEVEL: 'warn',
        ...exporterEnv,
      },
    });
    try {
      await body(env);
    } finally {
      await env.shutdown().catch(() => undefined);
    }
  }

  for (const temporality of ['delta', 'cumulative'] as const) {
    it(`${temporality} SDK temporality: exact values across frozen invocations, gone after SHUTDOWN`, async () => {
      const functionName = `orders-${temporality}`;
      const exporterEnv = {
        OBSERVED_REMOTE_WRITE_URL: prom.remoteWriteUrl,
        OBSERVED_PROMETHEUS_EXTERNAL_LABELS: 'cluster=sandbox',
      };
      await withOrdersFunction(functionName, temporality, exporterEnv, async (env) => {
        const events: InvocationEvent[] = [];
        for (let i = 0; i < 5; i++) {
          const event = invocation(i);
          events.push(event);
          const result = await env.invoke(event);
          expect(result.status).toBe('success');
          // Frozen between invocations, as Lambda leaves an idle environment.
          await new Promise((r) => setTimeout(r, 150));
        }
        const orders = events.flatMap((e) => e.orders);
        const sel = `job="${functionName}",cluster="sandbox"`;

        // Raw samples: one per invocation and series, each the running total so far.
        const now = Date.now() / 1000;
        const raw = await prom.query(`orders_placed_total{${sel},payment_method="card"}[10m]`, now);
        expect(raw).toHaveLength(1);
        const values = (raw[0] as unknown as { values: [number, string][] }).values;
        const cardPerInvocation = events.map((e) => e.orders.filter((o) => o.method === 'card').length);
        const runningCard = cardPerInvocation.map((_, i) => sum(cardPerInvocation.slice(0, i + 1)));
        expect(values.map(([, v]) => Number(v))).toEqual(runningCard);
        const instance = raw[0].metric.instance;
        expect(instance).toBeTruthy();

        const first = values[0][0];
        const last = values[values.length - 1][0];
        for (const method of METHODS) {
          expect(await prom.value(`orders_placed_total{${sel},payment_method="${method}"}`, last)).toBe(
            orders.filter((o) => o.method === method).length,
          );
        }
        const windowMs = Math.round((last - first) * 1000);
        expect(
          await prom.value(`increase(orders_placed_total{${sel},payment_method="card"}[${windowMs}ms])`, last),
        ).toBe(runningCard[runningCard.length - 1] - runningCard[0]);
        expect(await prom.value(`sum(orders_placed_total{${sel}})`, last)).toBe(orders.length);
        expect(await prom.value(`orders_open{${sel}}`, last)).toBe(sum(events.map((e) => e.openChange)));
        expect(await prom.value(`basket_value{${sel}}`, last)).toBe(events[events.length - 1].basket);
        const latencies = orders.map((o) => o.latency);
        expect(await prom.value(`orders_latency_seconds_count{${sel}}`, last)).toBe(latencies.length);
        expect(await prom.value(`orders_latency_seconds_sum{${sel}}`, last)).toBe(sum(latencies));
        const p90 = await prom.value(
          `histogram_quantile(0.9, sum by (le) (orders_latency_seconds_bucket{${sel}}))`,
          last,
        );
        expect(p90).toBeCloseTo(classicQuantile(0.9, BOUNDS, latencies), 12);
        // The Lambda resource is on target_info, the execution environment is the instance.
        const info = await prom.query(`target_info{${sel}}`, last);
        expect(info[0]?.metric).toMatchObject({ faas_name: functionName, cloud_region: 'eu-west-1', instance });

        expect((await prom.query(`{${sel}}`, Date.now() / 1000)).length).toBeGreaterThan(0);
        const shutdown = await env.shutdown();
        expect(shutdown.extensionsExitedInTime).toBe(true);
        expect(await prom.query(`{${sel}}`, (Date.now() + 1) / 1000)).toEqual([]);
        // Data written before SHUTDOWN stays queryable at its own time.
        expect(await prom.value(`sum(orders_placed_total{${sel}})`, last)).toBe(orders.length);
        expect(env.output()['observed-lambda']?.stdout ?? '').not.toMatch(/dropped|rejected/);
      });
    });
  }

  it.skipIf(!pushgatewayAvailable)(
    'Pushgateway: the totals of all invocations under the environment group, deleted at SHUTDOWN',
    async () => {
      const gateway = (await PushgatewayServer.start()) as PushgatewayServer;
      const functionName = 'orders-push';
      try {
        const exporterEnv = { OBSERVED_PUSHGATEWAY_URL: gateway.url, OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN: 'true' };
        await withOrdersFunction(functionName, 'delta', exporterEnv, async (env) => {
          const events = [0, 1, 2, 3].map(invocation);
          for (const event of events) {
            expect((await env.invoke(event)).status).toBe('success');
            await new Promise((r) => setTimeout(r, 100));
          }
          const orders = events.flatMap((e) => e.orders);
          const parsed = parseText(await gateway.metricsText());
          expect(parsed.types.orders_placed_total).toBe('counter');
          for (const method of METHODS) {
            expect(
              find(parsed, 'orders_placed_total', { job: functionName, payment_method: method }).map((s) => s.value),
            ).toEqual([orders.filter((o) => o.method === method).length]);
          }
          expect(find(parsed, 'orders_latency_seconds_count', { job: functionName }).map((s) => s.value)).toEqual([
            orders.length,
          ]);
          expect(find(parsed, 'orders_open', { job: functionName }).map((s) => s.value)).toEqual([
            sum(events.map((e) => e.openChange)),
          ]);
          const shutdown = await env.shutdown();
          expect(shutdown.extensionsExitedInTime).toBe(true);
          expect(find(parseText(await gateway.metricsText()), 'orders_placed_total', { job: functionName })).toEqual(
            [],
          );
        });
      } finally {
        await gateway.stop();
      }
    },
  );
});
