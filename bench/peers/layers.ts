/**
 * The Lambda layers the `peers` benchmark runs side by side in the sandbox, and how each is configured by
 * its own documented settings (every network setting on loopback):
 *
 * - observed-lambda, Node.js layer: built from the current source (scripts/build-extension.ts).
 * - observed-lambda, portable layer: `dist/layer-portable/` of this checkout (`npm run build`), when present
 *   (or the layer directory in BENCH_PEERS_PORTABLE); its size is that of `<dir>.zip` when there is one.
 * - the Rust OTLP extension (crate `opentelemetry-lambda-extension`), built by
 *   bench/peers/install-rust-extension.sh into the tools cache; configured by `LAMBDA_OTEL_*` variables.
 * - the OpenTelemetry Collector Lambda layer (`collector/` of open-telemetry/opentelemetry-lambda), built by
 *   hand (no recipe of it lives here) into `<tools cache>/otel-collector-lambda/layer/` (extensions/collector,
 *   collector-config/), its version in `<tools cache>/otel-collector-lambda/VERSION`; configured by a collector
 *   config file named in `OPENTELEMETRY_COLLECTOR_CONFIG_URI`.
 *
 * A layer that is not there is skipped with the reason and the command that makes it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildLayer } from '../../scripts/build-extension.js';
import { createZip, type ZipEntry } from '../../scripts/zip.js';
import { freePort } from '../../test/support/prometheus.js';
import { toolsCacheDir } from '../../test/support/tools.js';

const ROOT = join(__dirname, '..', '..');
export const RUST_EXTENSION_VERSION = '0.2.0';
const RUST_BINARY = join(`rust-otlp-extension-${RUST_EXTENSION_VERSION}`, 'bin', 'opentelemetry-lambda-extension');
const COLLECTOR_LAYER = join('otel-collector-lambda', 'layer');

/** How the function tells the extension that its telemetry for an invocation is sent (each peer's own way). */
export type Completion = 'observed-flushed' | 'rust-invocation-complete' | 'none';

/** Where a run's exports go. */
export interface Targets {
  /** OTLP/HTTP base URL (`/v1/traces` etc. appended). */
  otlpUrl: string;
  /** Prometheus remote write URL, for the layers that export by remote write; the others export OTLP. */
  remoteWriteUrl?: string;
}

export interface PreparedLayer {
  layerDir: string;
  /** The extension's registered name (its file name in extensions/). */
  extensionName: string;
  /** Bytes of the layer as a zip (every file of the layer, the same zip writer for every layer). */
  zipBytes: number;
  completion: Completion;
  /** Whether the 10k data points/s load goes by remote write (else OTLP/HTTP to the sink). */
  remoteWrite: boolean;
  /** The function's (and so the extension's) environment for one environment start, receiver on `port`. */
  environment(targets: Targets, port: number, scratchDir: string): Promise<Record<string, string>>;
}

export interface PeerLayer {
  /** node, portable, rust or collector for the layers here; any other name for a layer given to compare(). */
  key: string;
  label: string;
  /** Why it cannot run here (and how to make it), or undefined. */
  missing(): string | undefined;
  prepare(workDir: string): Promise<PreparedLayer>;
}

function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

/** The layer directory as a zip, with the project's deterministic zip writer. */
export function zipBytes(layerDir: string): number {
  const entries: ZipEntry[] = filesOf(layerDir).map((file) => ({
    path: relative(layerDir, file),
    data: readFileSync(file),
    mode: statSync(file).mode & 0o777,
  }));
  return createZip(entries).length;
}

function cached(relativePath: string): string {
  return join(toolsCacheDir(), relativePath);
}

/** An observed-lambda Node.js layer, built into the benchmark's work directory by `build`, with its own settings. */
export function observedNodeLayer(
  key: string,
  label: string,
  build: (outDir: string) => Promise<{ layerDir: string; zipBytes: number }>,
): PeerLayer {
  return {
    key,
    label,
    missing: () => undefined,
    async prepare(workDir) {
      const built = await build(join(workDir, `observed-${key}`));
      return {
        layerDir: built.layerDir,
        extensionName: 'observed-lambda',
        zipBytes: built.zipBytes,
        completion: 'observed-flushed',
        remoteWrite: true,
        environment: async (targets) => observedEnv(targets),
      };
    },
  };
}

const nodeLayer = observedNodeLayer('node', 'observed-lambda, Node.js layer', buildLayer);

function observedEnv(targets: Targets): Record<string, string> {
  return targets.remoteWriteUrl
    ? { OBSERVED_REMOTE_WRITE_URL: targets.remoteWriteUrl }
    : { OBSERVED_OTLP_ENDPOINT: targets.otlpUrl };
}

/** This checkout's portable layer, or another build of it named by BENCH_PEERS_PORTABLE (a layer directory). */
const PORTABLE_DIR = process.env.BENCH_PEERS_PORTABLE ?? join(ROOT, 'dist', 'layer-portable');

const portableLayer: PeerLayer = {
  key: 'portable',
  label: 'observed-lambda, portable layer',
  missing: () =>
    existsSync(join(PORTABLE_DIR, 'extensions', 'observed-lambda'))
      ? undefined
      : `${relative(ROOT, PORTABLE_DIR)}/extensions/observed-lambda not built (npm run build)`,
  async prepare() {
    const zip = `${PORTABLE_DIR}.zip`;
    return {
      layerDir: PORTABLE_DIR,
      extensionName: 'observed-lambda',
      zipBytes: existsSync(zip) ? statSync(zip).size : zipBytes(PORTABLE_DIR),
      completion: 'observed-flushed',
      remoteWrite: true,
      environment: async (targets) => observedEnv(targets),
    };
  },
};

const rustLayer: PeerLayer = {
  key: 'rust',
  label: `Rust OTLP extension ${RUST_EXTENSION_VERSION}`,
  missing: () =>
    existsSync(cached(RUST_BINARY))
      ? undefined
      : `${cached(RUST_BINARY)} not built (bash bench/peers/install-rust-extension.sh, about 15 minutes)`,
  async prepare(workDir) {
    const layerDir = join(workDir, 'rust-layer');
    mkdirSync(join(layerDir, 'extensions'), { recursive: true });
    copyFileSync(cached(RUST_BINARY), join(layerDir, 'extensions', 'opentelemetry-lambda-extension'));
    return {
      layerDir,
      extensionName: 'opentelemetry-lambda-extension',
      zipBytes: zipBytes(layerDir),
      completion: 'rust-invocation-complete',
      remoteWrite: false,
      // Its README's variables; the Telemetry API listener's port is fixed (9999) unless set, so each start
      // gets a free one. The exporter endpoint given here outranks the function's OTEL_EXPORTER_OTLP_ENDPOINT.
      environment: async (targets, port) => ({
        LAMBDA_OTEL_EXPORTER_ENDPOINT: targets.otlpUrl,
        LAMBDA_OTEL_RECEIVER_HTTP_PORT: String(port),
        LAMBDA_OTEL_TELEMETRY_API_LISTENER_PORT: String(await freePort()),
      }),
    };
  },
};

/** A collector config: OTLP/HTTP on loopback in; OTLP/HTTP (or remote write for metrics) out; no processors. */
function collectorConfig(targets: Targets, port: number, telemetryPort: number): string {
  const metricsExporter = targets.remoteWriteUrl ? 'prometheusremotewrite' : 'otlphttp';
  return [
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:${port}`,
    'exporters:',
    '  otlphttp:',
    `    endpoint: ${targets.otlpUrl}`,
    ...(targets.remoteWriteUrl
      ? [
          '  prometheusremotewrite:',
          `    endpoint: ${targets.remoteWriteUrl}`,
          '    target_info:',
          '      enabled: true',
        ]
      : []),
    'service:',
    '  telemetry:',
    // Its own metrics stay on (its default level), served on loopback rather than its default port 8888.
    '    metrics:',
    '      readers:',
    '        - pull:',
    '            exporter:',
    '              prometheus:',
    '                host: 127.0.0.1',
    `                port: ${telemetryPort}`,
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      exporters: [otlphttp]',
    '    logs:',
    '      receivers: [otlp]',
    '      exporters: [otlphttp]',
    '    metrics:',
    '      receivers: [otlp]',
    `      exporters: [${metricsExporter}]`,
    '',
  ].join('\n');
}

const collectorLayer: PeerLayer = {
  key: 'collector',
  label: 'OpenTelemetry Collector Lambda layer',
  missing: () =>
    existsSync(cached(join(COLLECTOR_LAYER, 'extensions', 'collector')))
      ? undefined
      : `${cached(COLLECTOR_LAYER)}/extensions/collector is absent (the layer of the collector/ folder of ` +
        'open-telemetry/opentelemetry-lambda, built by hand: extensions/collector and collector-config/)',
  async prepare() {
    const layerDir = cached(COLLECTOR_LAYER);
    return {
      layerDir,
      extensionName: 'collector',
      zipBytes: zipBytes(layerDir),
      completion: 'none',
      remoteWrite: true,
      environment: async (targets, port, scratchDir) => {
        const file = join(scratchDir, `collector-${port}.yaml`);
        writeFileSync(file, collectorConfig(targets, port, await freePort()));
        return { OPENTELEMETRY_COLLECTOR_CONFIG_URI: file };
      },
    };
  },
};

/** Every layer, in the order of the table. */
export const PEER_LAYERS: readonly PeerLayer[] = [nodeLayer, portableLayer, rustLayer, collectorLayer];

/** The Collector layer's version (written next to the layer when it is built), or undefined. */
export function collectorLayerVersion(): string | undefined {
  const file = cached(join('otel-collector-lambda', 'VERSION'));
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}
