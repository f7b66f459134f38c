/**
 * The reference OpenTelemetry Collector (built by bench/peers/build-otelcol.sh
 * into .tmp/otelcol-peer/) as a running process for benchmarks: OTLP/HTTP
 * receiver on a free loopback port, metrics pipeline into the
 * `prometheusremotewrite` exporter. Cases skip their Collector rows when it
 * is not built (`collectorMissing()` says why).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/prometheus.js';

export const COLLECTOR_BINARY = join(__dirname, '..', '..', '.tmp', 'otelcol-peer', 'otelcol-peer');

/** Why the Collector cannot run (undefined when it is built). */
export function collectorMissing(): string | undefined {
  return existsSync(COLLECTOR_BINARY) ? undefined : `${COLLECTOR_BINARY} not built (bash bench/peers/build-otelcol.sh)`;
}

/** The built Collector's version, e.g. `0.150.0`. */
export function collectorVersion(): string {
  const out = execFileSync(COLLECTOR_BINARY, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(out)?.[1] ?? 'unknown';
}

export interface CollectorOptions {
  /** Where `prometheusremotewrite` sends (a Prometheus `/api/v1/write` or a sink). */
  remoteWriteUrl: string;
  /** Metrics pipeline processors, in order; none by default. */
  processors?: string[];
  /** Extra lines under `exporters.prometheusremotewrite` (already indented by four spaces). */
  exporterLines?: string[];
  /**
   * Serve the Collector's own metrics (level normal, as its default) for `ownMetrics()`; off (level none)
   * by default, so only the pipeline's work is measured.
   */
  ownMetrics?: boolean;
}

function postEmpty(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

export class CollectorProcess {
  private stderrText = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    /** OTLP/HTTP receiver port on 127.0.0.1. */
    readonly otlpPort: number,
    private readonly metricsPort: number | undefined,
  ) {
    child.stderr?.on('data', (d: Buffer) => {
      this.stderrText += d.toString();
    });
  }

  /** Starts the Collector and waits until its OTLP/HTTP receiver answers (an empty request, nothing exported). */
  static async start(options: CollectorOptions): Promise<CollectorProcess> {
    const missing = collectorMissing();
    if (missing) throw new Error(missing);
    const otlpPort = await freePort();
    const metricsPort = options.ownMetrics ? await freePort() : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'otelcol-bench-'));
    const config = join(dir, 'config.yaml');
    const processors = options.processors ?? [];
    writeFileSync(
      config,
      [
        'receivers:',
        '  otlp:',
        '    protocols:',
        '      http:',
        `        endpoint: 127.0.0.1:${otlpPort}`,
        ...(processors.length > 0 ? ['processors:', ...processors.map((p) => `  ${p}:`)] : []),
        'exporters:',
        '  prometheusremotewrite:',
        `    endpoint: ${options.remoteWriteUrl}`,
        '    target_info:',
        '      enabled: true',
        ...(options.exporterLines ?? []),
        'service:',
        '  telemetry:',
        '    logs:',
        '      level: warn',
        '    metrics:',
        ...(metricsPort
          ? [
              '      level: normal',
              '      readers:',
              '        - pull:',
              '            exporter:',
              '              prometheus:',
              '                host: 127.0.0.1',
              `                port: ${metricsPort}`,
            ]
          : ['      level: none']),
        '  pipelines:',
        '    metrics:',
        '      receivers: [otlp]',
        `      processors: [${processors.join(', ')}]`,
        '      exporters: [prometheusremotewrite]',
        '',
      ].join('\n'),
    );
    const child = spawn(COLLECTOR_BINARY, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const collector = new CollectorProcess(child, dir, otlpPort, metricsPort);
    const url = `http://127.0.0.1:${otlpPort}/v1/metrics`;
    const until = Date.now() + 30_000;
    while ((await postEmpty(url)) !== 200) {
      if (child.exitCode !== null || Date.now() > until) {
        await collector.stop();
        throw new Error(`collector did not start:\n${collector.stderr()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return collector;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** The Collector's own counters (e.g. `otelcol_exporter_send_failed_metric_points_total`), summed over labels. */
  async ownMetrics(): Promise<Record<string, number>> {
    if (!this.metricsPort) throw new Error('started without ownMetrics');
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const totals: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
      if (m) totals[m[1]] = (totals[m[1]] ?? 0) + Number(m[2]);
    }
    return totals;
  }

  /** SIGTERM (it flushes and exits), SIGKILL after 5 s; removes the config. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
