/**
 * A function observed through the exec wrapper that requires
 * `@opentelemetry/api` without bundling it gets the layer's package, which is
 * the wrapper's own copy of the API: its spans are children of the invocation
 * span and its counter reaches the backend, through the extension.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { API_PACKAGE_DIR, WRAPPER_NAME } from '../../scripts/build-instrumentation.js';
import { attribute, hex, spanByInvocation, useInstrumentedLayer } from './helpers.js';

const layer = useInstrumentedLayer();
// Outside the repository, so that no node_modules above the function's code has the API.
const code = mkdtempSync(join(tmpdir(), 'api-user-'));
copyFileSync(join(__dirname, 'fixtures', 'functions', 'api-user', 'index.js'), join(code, 'index.js'));
afterAll(() => rmSync(code, { recursive: true, force: true }));

describe("the layer's @opentelemetry/api", () => {
  it("serves a function that requires the API without bundling it, and its calls reach the wrapper's SDK", async () => {
    const env = layer.track(
      await LambdaEnvironment.start({
        handler: 'index.handler',
        codeDir: code,
        functionName: 'api-user',
        layers: [layer.layerDir()],
        env: {
          AWS_LAMBDA_EXEC_WRAPPER: join(layer.layerDir(), WRAPPER_NAME),
          OBSERVED_OTLP_ENDPOINT: layer.backend.url,
          OBSERVED_FLUSH: 'end-of-invocation',
          OBSERVED_LOG_LEVEL: 'warn',
          OTEL_METRIC_EXPORT_INTERVAL: '600000',
        },
      }),
    );
    const r = await env.invoke({ kind: 'express' });
    await env.shutdown();
    expect(r.status).toBe('success');
    const result = r.result as { apiPath: string; traceId: string };
    expect(result.apiPath).toBe(join(layer.layerDir(), API_PACKAGE_DIR, 'index.js'));

    const invocation = spanByInvocation(layer.backend.spans(), r.requestId);
    const own = layer.backend.spans().find((s) => s.name === 'load order');
    expect(invocation).toBeDefined();
    expect(own).toBeDefined();
    expect(hex(own!.traceId)).toBe(result.traceId);
    expect(hex(own!.traceId)).toBe(hex(invocation!.traceId));
    expect(hex(own!.parentSpanId)).toBe(hex(invocation!.spanId));
    expect(attribute(own!.attributes, 'order.id')).toBe(42);

    const points = layer.backend
      .metrics()
      .filter((m) => m.name === 'api_user.orders')
      .flatMap((m) => m.sum?.dataPoints ?? []);
    expect(points.length).toBeGreaterThan(0);
    expect(Number(points.at(-1)!.asInt ?? points.at(-1)!.asDouble)).toBe(1);
    expect(attribute(points.at(-1)!.attributes, 'kind')).toBe('express');
  });
});
