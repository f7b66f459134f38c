/** What the exporters take besides their settings: the registry passes them, tests give their own. */
import type { Logger } from '../self-telemetry/log.js';
import type { BackendHealth, RetryPolicy } from './transport/retrying.js';

export interface ExporterDeps {
  /** The extension's logger; the exporter writes through a child named after itself. */
  readonly log?: Logger;
  /** Headers read from secrets at start (aws/secrets.ts); asked for on every request, as they arrive after start-up. */
  readonly extraHeaders?: () => Readonly<Record<string, string>>;
  /** Waits between attempts (DEFAULT_RETRY for what is not given). */
  readonly retry?: Partial<RetryPolicy>;
}

/** For an exporter with one backend. */
export interface OneBackendDeps extends ExporterDeps {
  /** Cool-down after failed flushes (so a dead backend does not cost every invocation its whole deadline). */
  readonly health?: BackendHealth;
}
