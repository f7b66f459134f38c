/**
 * One run of a function under AWS's Runtime Interface Emulator with aws-lambda-ric, inside a mount and
 * network namespace of its own (test/rie/namespace.ts starts it there): the layer is mounted on /opt as
 * Lambda unpacks it, and the extension's receiver listens on the default ports 4318 and 4317 of this
 * namespace's own loopback, so runs side by side do not collide. The OTLP sink and Prometheus run in the
 * namespace too. Prints one JSON line (ScenarioResult) on stdout and exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpSink } from '../support/otlp-sink.js';
import { PrometheusServer } from '../support/prometheus.js';

export interface ScenarioConfig {
  rie: string;
  /** The aws-lambda-ric package directory. */
  ric: string;
  codeDir: string;
  handler: string;
  /** `managed`: a bootstrap like Lambda's nodejs runtimes (exec wrapper from AWS_LAMBDA_EXEC_WRAPPER, then
   * run(LAMBDA_TASK_ROOT, _HANDLER)); `argv`: the client's own entry, `aws-lambda-ric <handler>`. */
  entry: 'managed' | 'argv';
  wrapper: boolean;
  payloads: unknown[];
  env?: Record<string, string>;
  timeoutSeconds?: number;
  prometheus?: boolean;
  /** The function's SDK exports straight to the sink (OTEL_EXPORTER_OTLP_ENDPOINT), for runs without the extension. */
  functionExportsToSink?: boolean;
  /** PromQL queries answered after the last invocation (with `prometheus`). */
  queries?: string[];
}

export interface ScenarioResult {
  invocations: { status: number; body: string; ms: number }[];
  /** Spans at the sink: name, scope and faas.invocation_id. */
  spans: { name: string; scope: string; invocationId?: string }[];
  /** Every data point value at the sink, by metric name, in arrival order. */
  metrics: Record<string, number[]>;
  prometheus?: Record<string, number | null>;
  output: string;
  rieExit: { code: number | null; signal: string | null };
}

const INVOKE_URL = 'http://127.0.0.1:8080/2015-03-31/functions/function/invocations';

function waitForPort(port: number, until: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.OBSERVED_RIE_SCENARIO ?? '{}') as ScenarioConfig;
  const sink = await new OtlpSink().start();
  const prometheus = config.prometheus ? await PrometheusServer.start() : undefined;
  const work = mkdtempSync(join(tmpdir(), 'observed-rie-'));
  let command: string[];
  if (config.entry === 'managed') {
    // As Lambda's nodejs runtimes start: /var/runtime/bootstrap runs the exec wrapper, then the runtime's index.mjs.
    writeFileSync(
      join(work, 'index.mjs'),
      `import { run } from ${JSON.stringify(join(config.ric, 'dist', 'index.mjs'))};\nawait run(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);\n`,
    );
    writeFileSync(
      join(work, 'bootstrap'),
      `#!/bin/sh\nexec $AWS_LAMBDA_EXEC_WRAPPER ${JSON.stringify(process.execPath)} ${JSON.stringify(join(work, 'index.mjs'))}\n`,
    );
    chmodSync(join(work, 'bootstrap'), 0o755);
    command = [join(work, 'bootstrap')];
  } else {
    command = [
      ...(config.wrapper ? ['/opt/observed-instrument'] : []),
      process.execPath,
      join(config.ric, 'bin', 'index.mjs'),
      config.handler,
    ];
  }
  const env: Record<string, string> = {
    PATH: `${join(process.execPath, '..')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: work,
    AWS_LAMBDA_FUNCTION_NAME: 'rie-function',
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(config.timeoutSeconds ?? 10),
    AWS_REGION: 'eu-west-1',
    LAMBDA_TASK_ROOT: config.codeDir,
    _HANDLER: config.handler,
    OBSERVED_OTLP_ENDPOINT: sink.url,
    ...(config.functionExportsToSink ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } : {}),
    ...(config.entry === 'managed' && config.wrapper ? { AWS_LAMBDA_EXEC_WRAPPER: '/opt/observed-instrument' } : {}),
    ...(prometheus ? { OBSERVED_REMOTE_WRITE_URL: prometheus.remoteWriteUrl } : {}),
    ...config.env,
  };
  let output = '';
  const rie = spawn(config.rie, ['--runtime-interface-emulator-address', '127.0.0.1:8080', ...command], {
    cwd: config.codeDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  rie.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  rie.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const invocations: ScenarioResult['invocations'] = [];
  let answers: Record<string, number | null> | undefined;
  try {
    await waitForPort(8080, Date.now() + 10_000);
    for (const payload of config.payloads) {
      const began = performance.now();
      const response = await fetch(INVOKE_URL, { method: 'POST', body: JSON.stringify(payload) });
      const body = await response.text();
      invocations.push({ status: response.status, body, ms: performance.now() - began });
    }
  } finally {
    rie.kill('SIGTERM');
  }
  const rieExit = await exited(rie, 10_000);
  if (prometheus) {
    answers = {};
    for (const query of config.queries ?? []) {
      const vector = await prometheus.query(query);
      const value = vector[0]?.value;
      answers[query] = value ? Number(value[1]) : null;
    }
    await prometheus.stop();
  }
  const spans: ScenarioResult['spans'] = [];
  for (const request of sink.requests('traces')) {
    for (const rs of request.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          const id = span.attributes?.find((a) => a.key === 'faas.invocation_id')?.value?.stringValue;
          spans.push({ name: span.name ?? '', scope: ss.scope?.name ?? '', invocationId: id ?? undefined });
        }
      }
    }
  }
  const metrics: Record<string, number[]> = {};
  for (const metric of sink.metrics()) {
    const points = [...(metric.sum?.dataPoints ?? []), ...(metric.gauge?.dataPoints ?? [])];
    for (const point of points) {
      const name = metric.name ?? '';
      metrics[name] = [...(metrics[name] ?? []), Number(point.asInt ?? point.asDouble)];
    }
  }
  await sink.stop();
  rmSync(work, { recursive: true, force: true });
  const result: ScenarioResult = { invocations, spans, metrics, prometheus: answers, output, rieExit };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`scenario failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
