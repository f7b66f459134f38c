/**
 * `npm run demo`: builds the extension layer (into a temporary folder, so the
 * checkout's dist/ stays as it was), runs the sample function
 * (examples/sample-function, OpenTelemetry SDK for traces, metrics and logs)
 * a few dozen times in the local Lambda sandbox with the extension, and
 * prints what reached the backends: a local OTLP backend always, and a real
 * Prometheus through remote write when the `prometheus` binary is installed
 * (bash scripts/install-system-deps.sh).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RequestBySignal, Signal } from '../extension-src/otlp/types.js';
import { LambdaEnvironment } from '../sandbox/index.js';
import { findBinary } from '../test/support/binaries.js';
import { OtlpSink } from '../test/support/otlp-sink.js';
import { PrometheusServer } from '../test/support/prometheus.js';
import { buildLayer } from './build-extension.js';

const INVOCATIONS = 30;

type Scoped = Record<string, number>;

function countByScope(sink: OtlpSink, signal: Signal): Scoped {
  const counts: Scoped = {};
  for (const request of sink.requests(signal) as RequestBySignal[Signal][]) {
    const r = request as { resourceSpans?: unknown[]; resourceMetrics?: unknown[]; resourceLogs?: unknown[] };
    for (const resource of (r.resourceSpans ?? r.resourceMetrics ?? r.resourceLogs ?? []) as Record<
      string,
      unknown[]
    >[]) {
      for (const scoped of (resource.scopeSpans ?? resource.scopeMetrics ?? resource.scopeLogs ?? []) as {
        scope?: { name?: string };
        spans?: unknown[];
        metrics?: {
          sum?: { dataPoints?: unknown[] };
          gauge?: { dataPoints?: unknown[] };
          histogram?: { dataPoints?: unknown[] };
        }[];
        logRecords?: unknown[];
      }[]) {
        const name = scoped.scope?.name ?? '(none)';
        const items =
          scoped.spans?.length ??
          scoped.logRecords?.length ??
          (scoped.metrics ?? []).reduce(
            (n, m) =>
              n + (m.sum?.dataPoints?.length ?? m.gauge?.dataPoints?.length ?? m.histogram?.dataPoints?.length ?? 0),
            0,
          );
        counts[name] = (counts[name] ?? 0) + items;
      }
    }
  }
  return counts;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const buildDir = mkdtempSync(join(tmpdir(), 'observed-demo-'));
  process.once('exit', () => rmSync(buildDir, { recursive: true, force: true }));
  const layer = await buildLayer(buildDir);
  console.log(
    `layer built: ${layer.zipPath} (${(layer.zipBytes / 1024).toFixed(0)} KiB zipped) in ${Math.round(performance.now() - t0)} ms`,
  );

  const sink = await new OtlpSink().start();
  const prometheus = findBinary('prometheus') ? await PrometheusServer.start() : undefined;
  console.log(
    `OTLP backend: ${sink.url}${prometheus ? `; Prometheus: ${prometheus.url}` : '; Prometheus not installed, remote write skipped'}`,
  );

  const env = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: join(__dirname, '..', 'examples', 'sample-function'),
    layers: [layer.layerDir],
    functionName: 'demo-function',
    env: {
      OBSERVED_OTLP_ENDPOINT: sink.url,
      ...(prometheus ? { OBSERVED_REMOTE_WRITE_URL: prometheus.remoteWriteUrl } : {}),
    },
  });
  const durations: number[] = [];
  let lastInvocationSec = Date.now() / 1000;
  try {
    for (let i = 0; i < INVOCATIONS; i++) {
      const result = await env.invoke({ spans: 5, points: 4, logs: 3 });
      durations.push(result.durationMs);
      if (result.status !== 'success')
        console.log(`invocation ${i + 1}: ${result.status} ${JSON.stringify(result.error)}`);
    }
    lastInvocationSec = Date.now() / 1000;
  } finally {
    const shutdown = await env.shutdown();
    if (process.env.DEMO_VERBOSE) console.log(env.stdout('observed-lambda'));
    const ext = shutdown.extensions.find((e) => e.name === 'observed-lambda');
    console.log(
      `${INVOCATIONS} invocations: duration p50 ${percentile(durations, 50)} ms, p99 ${percentile(durations, 99)} ms; SHUTDOWN: extension exited ${ext?.exitedInTime ? 'in time' : 'LATE'} (code ${ext?.exitCode}) after ${ext?.durationMs} ms`,
    );
  }

  console.log('\nArrived at the OTLP backend (items per instrumentation scope):');
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    console.log(`  ${signal.padEnd(8)} ${JSON.stringify(countByScope(sink, signal))}`);
  }
  const span = sink.spans().find((s) => s.name === 'handler');
  if (span) {
    console.log(
      `  sample span: "${span.name}" trace ${Buffer.from(span.traceId ?? []).toString('hex')} span ${Buffer.from(span.spanId ?? []).toString('hex')}`,
    );
  }
  const log = sink.logRecords().find((l) => l.body?.stringValue?.startsWith('invocation'));
  if (log) console.log(`  sample log record: "${log.body?.stringValue}"`);
  const invocations = sink
    .metrics()
    .filter((m) => m.name === 'sample.invocations')
    .flatMap((m) => m.sum?.dataPoints ?? [])
    .map((p) => Number(p.asDouble ?? p.asInt));
  console.log(`  sample.invocations (cumulative) last value: ${Math.max(...invocations)}`);
  for (const name of ['faas.invocations', 'faas.coldstarts', 'observed_lambda.received', 'observed_lambda.exported']) {
    // The latest value of every series of the metric.
    const latest = new Map<string, { time: number; value: number }>();
    for (const point of sink
      .metrics()
      .filter((m) => m.name === name)
      .flatMap((m) => m.sum?.dataPoints ?? [])) {
      const attrs = (point.attributes ?? []).map((a) => `${a.key}=${a.value?.stringValue ?? ''}`).join(',');
      const time = Number(point.timeUnixNano);
      if ((latest.get(attrs)?.time ?? -1) <= time)
        latest.set(attrs, { time, value: Number(point.asInt ?? point.asDouble) });
    }
    for (const [attrs, { value }] of latest) console.log(`  ${name}{${attrs}} = ${value}`);
  }

  if (prometheus) {
    // The exporter writes staleness markers at SHUTDOWN, so the series are queried as of the last invocation.
    console.log('\nIn Prometheus (remote write), as of the last invocation:');
    for (const query of [
      'sample_invocations_total',
      'sum(sample_work_total)',
      'count(count by (__name__) ({__name__=~"faas_.+|aws_lambda_.+"}))',
      'count({__name__=~".+"})',
    ]) {
      try {
        const result = await prometheus.query(query, lastInvocationSec);
        const shown = result
          .slice(0, 3)
          .map((r) => `${r.metric.__name__ ?? ''}${r.metric.job ? `{job="${r.metric.job}"}` : ''} ${r.value?.[1]}`)
          .join('; ');
        console.log(`  ${query} => ${shown || '(no data)'}`);
      } catch (error) {
        console.log(`  ${query} => ${String(error)}`);
      }
    }
    await prometheus.stop();
  }
  await sink.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
