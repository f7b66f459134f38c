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

const prefixed = (log: Logger, name: string) => (message: string) => log.warn(`${name}: ${message}`);

export const EXPORTERS: readonly ExporterEntry[] = [
  {
    name: 'otlp',
    create({ config, log, secretHeaders }) {
      if (!config.otlp) return undefined;
      const exporter = new OtlpHttpExporter(config.otlp, {
        log,
        bounds: config.buffer,
        extraHeaders: secretHeaders && (() => secretHeaders('otlp')),
      });
      return exporter;
    },
  },
  {
    name: 'remote-write',
    create({ config, log, secretHeaders }) {
      if (!config.remoteWrite) return undefined;
      const exporter = new (load.remoteWrite().RemoteWriteExporter)(config.remoteWrite, {
        log: prefixed(log, 'remote-write'),
        extraHeaders: secretHeaders && (() => secretHeaders('remote-write')),
      });
      return exporter;
    },
  },
  {
    name: 'pushgateway',
    create({ config, log, secretHeaders }) {
      if (!config.pushgateway) return undefined;
      const exporter = new (load.pushgateway().PushgatewayExporter)(config.pushgateway, {
        log: prefixed(log, 'pushgateway'),
        extraHeaders: secretHeaders && (() => secretHeaders('pushgateway')),
      });
      return exporter;
    },
  },
  {
    name: 'opensearch',
    create({ config, log, secretHeaders }) {
      if (!config.openSearch) return undefined;
      const exporter = new (load.openSearch().OpenSearchExporter)(config.openSearch, {
        log: prefixed(log, 'opensearch'),
        extraHeaders: secretHeaders && (() => secretHeaders('opensearch')),
      });
      return exporter;
    },
  },
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
