/**
 * Real Cortex (the engine behind Amazon Managed Service for Prometheus) for
 * tests: the single binary built by scripts/install/cortex.sh, in a temporary
 * directory (it writes ./active-query-tracker into its working directory) on
 * free loopback ports, with multi-tenancy on (the X-Scope-OrgID header plays
 * the AMP workspace), AMP's documented quotas as its limits, and the HA
 * tracker on memberlist (no consul or etcd).
 *
 * Each tenant may get its own limits (Cortex's runtime overrides), so one
 * Cortex serves a suite whose tests each need a quota to bite at a small scale.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type InstantVector, instantQuery, Server, singleValue } from './prometheus.js';
import { requireCachedTool } from './tools.js';

export const CORTEX_VERSION = '1.21.1';
const TOOL = `cortex-${CORTEX_VERSION}/cortex`;
const INSTALLER = 'scripts/install/cortex.sh';

/**
 * AMP's quotas, each from the Amazon Managed Service for Prometheus user guide,
 * "Amazon Managed Service for Prometheus service quotas"
 * (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP_quotas.html),
 * and the error text AMP answers with ("Troubleshoot Amazon Managed Service for
 * Prometheus errors", AMP-troubleshooting.html), as Cortex limits.
 */
export const AMP_QUOTAS = {
  /** "Labels per metric series: 70". */
  max_label_names_per_series: 70,
  /** "Label size: 7 KB" of all labels of a series (AMP refuses with `labels size bytes exceeded ... limit: 7168`). */
  max_labels_size_bytes: 7168,
  /** Label name and value length: AMP refuses with Cortex's `label name too long` / `label value too long` at Cortex's lengths. */
  max_label_name_length: 1024,
  max_label_value_length: 2048,
  /** "Metadata length: 1 KB" (metric name, HELP and UNIT). */
  max_metadata_length: 1024,
  /** "Metadata per metric: 10". */
  max_metadata_per_metric: 10,
  /** "Active metrics with metadata per workspace: 20,000". */
  max_global_metadata_per_user: 20_000,
  /** "Active series per workspace: 10,000,000 per 2 hours" (the default, adjustable). */
  max_global_series_per_user: 10_000_000,
  /** "Ingestion rate per workspace: 170,000 samples per second" (adjustable). */
  ingestion_rate: 170_000,
  /** "Ingestion burst size per workspace: 1,000,000 samples" (adjustable). */
  ingestion_burst_size: 1_000_000,
  /** AMP documents no per-metric series quota (Cortex's default is 50,000 per ingester). */
  max_series_per_metric: 0,
  /** No out-of-order window: a sample older than its series' newest is refused ("out of order sample"). */
  out_of_order_time_window: '0s',
} as const;

/** Per-tenant overrides of AMP_QUOTAS (Cortex's names), for a quota that should bite at a test's scale. */
export type TenantLimits = Partial<Record<keyof typeof AMP_QUOTAS, number | string>>;

export interface CortexOptions {
  /** Tenant (workspace) id -> limits different from AMP's defaults. */
  readonly tenants?: Record<string, TenantLimits>;
}

function yamlLimits(limits: Record<string, number | string | boolean>, indent: string): string {
  return Object.entries(limits)
    .map(([name, value]) => `${indent}${name}: ${typeof value === 'string' ? JSON.stringify(value) : value}`)
    .join('\n');
}

function config(dir: string, grpcPort: number, gossipPort: number, tenants: Record<string, TenantLimits>): string {
  const overrides = join(dir, 'overrides.yaml');
  const tenantBlocks = Object.entries(tenants)
    .map(([id, limits]) => `  ${JSON.stringify(id)}:\n${yamlLimits({ ...AMP_QUOTAS, ...limits }, '    ')}`)
    .join('\n');
  writeFileSync(overrides, `overrides:\n${tenantBlocks || '  {}'}\n`);
  return `
auth_enabled: true
server:
  http_listen_address: 127.0.0.1
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: ${grpcPort}
  log_level: warn
distributor:
  shard_by_all_labels: true
  # Under load on two shared cores the ingester answers the distributor after its default 2 s (DeadlineExceeded, a 5xx).
  remote_timeout: 10s
  ha_tracker:
    enable_ha_tracker: true
    kvstore:
      store: memberlist
ingester:
  lifecycler:
    address: 127.0.0.1
    min_ready_duration: 0s
    final_sleep: 0s
    num_tokens: 128
    ring:
      kvstore:
        store: inmemory
      replication_factor: 1
memberlist:
  bind_addr: [127.0.0.1]
  bind_port: ${gossipPort}
  abort_if_cluster_join_fails: false
limits:
${yamlLimits(AMP_QUOTAS, '  ')}
  enable_native_histograms: true
  max_exemplars: 100000
  accept_ha_samples: true
  ha_cluster_label: cluster
  ha_replica_label: __replica__
  ingestion_rate_strategy: local
runtime_config:
  file: ${overrides}
  period: 1s
blocks_storage:
  backend: filesystem
  filesystem:
    dir: ${join(dir, 'blocks')}
  tsdb:
    dir: ${join(dir, 'tsdb')}
  bucket_store:
    sync_dir: ${join(dir, 'tsdb-sync')}
compactor:
  data_dir: ${join(dir, 'compactor')}
  sharding_ring:
    kvstore:
      store: inmemory
store_gateway:
  sharding_enabled: false
frontend_worker:
  match_max_concurrent: true
ruler_storage:
  backend: local
  local:
    directory: ${join(dir, 'rules')}
alertmanager:
  external_url: http://127.0.0.1/alertmanager
  # No alertmanager gossip: its default fixed port 9094 would collide between Cortex instances.
  cluster:
    listen_address: ''
  data_dir: ${join(dir, 'alertmanager')}
  sharding_ring:
    kvstore:
      store: inmemory
alertmanager_storage:
  backend: local
  local:
    path: ${join(dir, 'alerts')}
`;
}

/** The built binary's path, or undefined after saying why its suites are skipped (throws under CI=true). */
export function cortexBinary(): string | undefined {
  return requireCachedTool(TOOL, INSTALLER);
}

export class CortexServer extends Server {
  private dir = '';

  /** Starts Cortex; undefined (after saying why) when the binary is not built. */
  static async start(options: CortexOptions = {}): Promise<CortexServer | undefined> {
    const binary = cortexBinary();
    if (!binary) return undefined;
    const server = new CortexServer();
    server.dir = mkdtempSync(join(tmpdir(), 'observed-cortex-'));
    const file = join(server.dir, 'cortex.yaml');
    // The ruler and alertmanager read their (empty) local stores at start.
    for (const store of ['rules', 'alerts']) mkdirSync(join(server.dir, store));
    const [grpcPort, gossipPort] = [await freePort(), await freePort()];
    writeFileSync(file, config(server.dir, grpcPort, gossipPort, options.tenants ?? {}));
    await server.launch(
      binary,
      (port) => [`-config.file=${file}`, '-target=all', `-server.http-listen-port=${port}`],
      '/ready',
      server.dir,
      60_000,
    );
    return server;
  }

  /** The push endpoint (AMP's `.../api/v1/remote_write` is the same handler). */
  get remoteWriteUrl(): string {
    return `${this.url}/api/v1/push`;
  }

  /** Instant query for a tenant, always at an explicit time to the millisecond (Cortex rounds a missing one). */
  query(tenant: string, promql: string, time = Date.now() / 1000): Promise<InstantVector[]> {
    return instantQuery(`${this.url}/prometheus/api/v1/query`, promql, time, { 'X-Scope-OrgID': tenant });
  }

  async value(tenant: string, promql: string, time?: number): Promise<number> {
    return singleValue(promql, await this.query(tenant, promql, time));
  }

  async exemplars(tenant: string, promql: string, startSec: number, endSec: number): Promise<unknown[]> {
    const params = new URLSearchParams({ query: promql, start: startSec.toFixed(3), end: endSec.toFixed(3) });
    const res = await fetch(`${this.url}/prometheus/api/v1/query_exemplars?${params}`, {
      headers: { 'X-Scope-OrgID': tenant },
    });
    const body = (await res.json()) as { status: string; data: unknown[]; error?: string };
    if (body.status !== 'success') throw new Error(`exemplars ${promql} failed: ${body.error}`);
    return body.data;
  }

  /** One tenant's view: the exporter settings that write to it (URL and X-Scope-OrgID), and its queries. */
  tenant(id: string) {
    return {
      leftOpenRanges: true,
      nativeInterpolation: 'exponential' as const,
      exporterEnv: {
        OBSERVED_REMOTE_WRITE_URL: this.remoteWriteUrl,
        OBSERVED_REMOTE_WRITE_HEADERS: `X-Scope-OrgID=${id}`,
      },
      query: (promql: string, time?: number) => this.query(id, promql, time),
      value: (promql: string, time?: number) => this.value(id, promql, time),
      exemplars: (promql: string, startSec: number, endSec: number) => this.exemplars(id, promql, startSec, endSec),
    };
  }

  override async stop(): Promise<void> {
    await super.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
