/**
 * Real Prometheus and Pushgateway servers for tests: each on a free loopback
 * port with its own temporary storage, stopped (and the storage removed) by
 * `stop()`. `query()` runs PromQL through the HTTP API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}):\n${output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready after ${timeoutMs} ms: ${url}\n${output()}`);
}

export abstract class Server {
  protected child: ChildProcess | undefined;
  protected log = '';
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected async launch(
    binary: string,
    args: (port: number) => string[],
    readyPath: string,
    cwd?: string,
    readyTimeoutMs?: number,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort();
      this.log = '';
      const child = spawn(binary, args(this.port), { stdio: ['ignore', 'pipe', 'pipe'], cwd });
      this.child = child;
      child.stdout?.on('data', (d: Buffer) => {
        this.log += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        this.log += d.toString();
      });
      try {
        await waitReady(`${this.url}${readyPath}`, child, () => this.log, readyTimeoutMs);
        return;
      } catch (error) {
        child.kill('SIGKILL');
        // Another process may have taken the port between the probe and the bind.
        if (attempt >= 2 || !/address already in use/i.test(this.log)) throw error;
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  output(): string {
    return this.log;
  }
}

export interface InstantVector {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string; buckets?: [number, string, string, string][] }];
}

/** An instant query through a Prometheus-compatible query API; `time` in seconds, sent to the millisecond. */
export async function instantQuery(
  endpoint: string,
  promql: string,
  time?: number,
  headers: Record<string, string> = {},
): Promise<InstantVector[]> {
  const params = new URLSearchParams({ query: promql });
  if (time !== undefined) params.set('time', time.toFixed(3));
  const res = await fetch(`${endpoint}?${params}`, { headers });
  const text = await res.text();
  let body: { status: string; error?: string; data: { resultType: string; result: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`query ${promql} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
  if (body.data.resultType === 'scalar') {
    return [{ metric: {}, value: body.data.result as [number, string] }];
  }
  return body.data.result as InstantVector[];
}

/** The single float value of an instant query's result (throws unless exactly one series). */
export function singleValue(promql: string, result: InstantVector[]): number {
  if (result.length !== 1 || !result[0].value) {
    throw new Error(`expected one float series from ${promql}, got ${JSON.stringify(result)}`);
  }
  return Number(result[0].value[1]);
}

export class PrometheusServer extends Server {
  private storage = '';

  /** Starts Prometheus 2.x with the remote write receiver, native histograms and exemplar storage; undefined when not installed. */
  static async start(): Promise<PrometheusServer | undefined> {
    const binary = requireBinary('prometheus');
    if (!binary) return undefined;
    const server = new PrometheusServer();
    server.storage = mkdtempSync(join(tmpdir(), 'observed-prometheus-'));
    const config = join(server.storage, 'prometheus.yml');
    const { writeFileSync } = await import('node:fs');
    // No scrape targets: everything arrives by remote write.
    writeFileSync(config, 'global:\n  scrape_interval: 1h\n');
    await server.launch(
      binary,
      (port) => [
        `--config.file=${config}`,
        '--web.enable-remote-write-receiver',
        '--enable-feature=native-histograms,exemplar-storage',
        `--storage.tsdb.path=${join(server.storage, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      '/-/ready',
    );
    return server;
  }

  get remoteWriteUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  /** Instant query; `time` in seconds (fractions allowed). */
  query(promql: string, time?: number): Promise<InstantVector[]> {
    return instantQuery(`${this.url}/api/v1/query`, promql, time);
  }

  /** The single float value of an instant query (throws unless exactly one series). */
  async value(promql: string, time?: number): Promise<number> {
    return singleValue(promql, await this.query(promql, time));
  }

  async exemplars(promql: string, startSec: number, endSec: number): Promise<unknown[]> {
    const params = new URLSearchParams({ query: promql, start: String(startSec), end: String(endSec) });
    const res = await fetch(`${this.url}/api/v1/query_exemplars?${params}`);
    const body = (await res.json()) as { status: string; data: unknown[] };
    return body.data;
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (this.storage) rmSync(this.storage, { recursive: true, force: true });
  }
}

export class PushgatewayServer extends Server {
  static async start(): Promise<PushgatewayServer | undefined> {
    const binary = requireBinary('prometheus-pushgateway');
    if (!binary) return undefined;
    const server = new PushgatewayServer();
    await server.launch(binary, (port) => [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], '/-/ready');
    return server;
  }

  async metricsText(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`);
    return res.text();
  }
}
