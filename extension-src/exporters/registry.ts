/**
 * Which exporters run, decided by configuration: each entry creates its
 * exporter when its destination is configured (OBSERVED_OTLP_ENDPOINT,
 * OBSERVED_REMOTE_WRITE_URL, OBSERVED_PUSHGATEWAY_URL,
 * OBSERVED_OPENSEARCH_ENDPOINT); the self metrics read each one's counters
 * through the one `Exporter.counterRows()`.
 *
 * To add an exporter: implement `Exporter` (contracts/exporter.ts), read its settings in
 * its own config.ts with the one reader (env/reader.ts) and add them to
 * `ExtensionConfig` (config/index.ts) and `ExporterSettings` below, then add
 * one entry here. A constructor that throws is logged and skipped; the
 * other exporters and the function are not affected.
 */
import type { Exporter } from '../contracts/exporter.js';
import type { BufferBounds } from '../queue/signal-buffer.js';
import type { Logger } from '../self-telemetry/log.js';
import type { CounterSource } from '../self-telemetry/metrics.js';
import type { ExporterDeps } from './deps.js';
import type { OpenSearchOptions } from './opensearch/config.js';
import type { OtlpExporterConfig } from './otlp-http/config.js';
import { OtlpHttpExporter } from './otlp-http/exporter.js';
import type { RemoteWriteOptions } from './prometheus-remote-write/config.js';
import type { PushgatewayOptions } from './pushgateway/config.js';

// Exporters with heavier dependencies (protobuf decoding, SigV4) are loaded only when configured:
// `require` here makes the bundler evaluate their modules on first use, not at start-up.
const load = {
  remoteWrite: () =>
    require('./prometheus-remote-write/exporter.js') as typeof import('./prometheus-remote-write/exporter.js'),
  pushgateway: () => require('./pushgateway/exporter.js') as typeof import('./pushgateway/exporter.js'),
  openSearch: () => require('./opensearch/exporter.js') as typeof import('./opensearch/exporter.js'),
};

/** The exporters' part of the configuration; each is present only when its destination is set. */
export interface ExporterSettings {
  /** Bounds of the OTLP exporter's per-signal queues (OBSERVED_BUFFER_*). */
  readonly buffer: BufferBounds;
  readonly otlp?: OtlpExporterConfig;
  readonly remoteWrite?: RemoteWriteOptions;
  readonly pushgateway?: PushgatewayOptions;
  readonly openSearch?: OpenSearchOptions;
}

export interface ExporterContext {
  readonly config: ExporterSettings;
  readonly log: Logger;
  /** Headers an exporter (by entry name) read from secrets at start, if any. */
  readonly secretHeaders?: (exporter: string) => Readonly<Record<string, string>>;
}

export interface ExporterEntry {
  readonly name: string;
  /** The exporter, or undefined when not configured. */
  create(context: ExporterContext): Exporter | undefined;
}

type CommonDeps = ExporterDeps & { readonly log: Logger };

type Destination = Exclude<keyof ExporterSettings, 'buffer'>;

/** An entry that builds its exporter when `config[destination]` is set; secret headers are asked for by `name`. */
function entry<D extends Destination>(
  name: string,
  destination: D,
  build: (settings: NonNullable<ExporterSettings[D]>, deps: CommonDeps, config: ExporterSettings) => Exporter,
): ExporterEntry {
  return {
    name,
    create({ config, log, secretHeaders }) {
      const settings = config[destination];
      if (!settings) return undefined;
      return build(settings, { log, extraHeaders: secretHeaders && (() => secretHeaders(name)) }, config);
    },
  };
}

export const EXPORTERS: readonly ExporterEntry[] = [
  entry('otlp', 'otlp', (settings, deps, config) => new OtlpHttpExporter(settings, { ...deps, bounds: config.buffer })),
  entry(
    'remote-write',
    'remoteWrite',
    (settings, deps) => new (load.remoteWrite().RemoteWriteExporter)(settings, deps),
  ),
  entry('pushgateway', 'pushgateway', (settings, deps) => new (load.pushgateway().PushgatewayExporter)(settings, deps)),
  entry('opensearch', 'openSearch', (settings, deps) => new (load.openSearch().OpenSearchExporter)(settings, deps)),
];

/** Creates every configured exporter; one that fails to construct is logged and left out. */
export function createExporters(
  context: ExporterContext,
  entries: readonly ExporterEntry[] = EXPORTERS,
): { exporters: Exporter[]; counters: CounterSource[] } {
  const exporters: Exporter[] = [];
  const counters: CounterSource[] = [];
  for (const entry of entries) {
    try {
      const exporter = entry.create(context);
      if (!exporter) continue;
      exporters.push(exporter);
      counters.push(() => exporter.counterRows());
    } catch (error) {
      context.log.error(`${entry.name} exporter could not start and is disabled: ${String(error)}`);
    }
  }
  return { exporters, counters };
}
