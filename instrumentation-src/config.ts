/**
 * The instrumentation's settings: the options given in code, then the
 * environment (standard OTEL_* variables for the SDK, OBSERVED_* for what is
 * ours), then defaults.
 */

export interface TelemetryOptions {
  /**
   * service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one.
   * @default the function name (AWS_LAMBDA_FUNCTION_NAME)
   */
  readonly serviceName?: string;
  /**
   * Longest time, in milliseconds, the end of an invocation waits for traces, metrics and logs to be
   * flushed (never more than the invocation's remaining time allows).
   * @default OBSERVED_SDK_FLUSH_TIMEOUT_MS, else 2000
   */
  readonly flushTimeoutMs?: number;
  /**
   * Instrumentations to enable, by their short names ('http', 'undici', 'aws-sdk', or the name of any
   * `@opentelemetry/instrumentation-<name>` package the function ships).
   * @default OTEL_NODE_ENABLED_INSTRUMENTATIONS, else ['aws-sdk', 'http', 'undici']
   */
  readonly instrumentations?: readonly string[];
  /** Resource attributes added to every signal (OTEL_RESOURCE_ATTRIBUTES still wins). */
  readonly resourceAttributes?: Readonly<Record<string, string | number | boolean>>;
}

export interface ResolvedConfig {
  readonly flushTimeoutMs: number;
  /** Where the flushed notice goes; undefined when the SDK does not export to a local extension. */
  readonly noticeUrl: string | undefined;
}

export const DEFAULT_FLUSH_TIMEOUT_MS = 2000;
const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';
const DEFAULT_RECEIVER_PORT = 4318;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function resolveConfig(options: TelemetryOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  return {
    flushTimeoutMs:
      positiveNumber(options.flushTimeoutMs) ??
      positiveNumber(env.OBSERVED_SDK_FLUSH_TIMEOUT_MS) ??
      DEFAULT_FLUSH_TIMEOUT_MS,
    noticeUrl: flushedNoticeUrl(env),
  };
}

/**
 * The extension's receiver listens on OBSERVED_RECEIVER_PORT (default 4318). When that variable is
 * unset, the traces endpoint tells where the extension is: a loopback endpoint is the extension,
 * anything else means the SDK exports elsewhere and nobody is waiting for the notice.
 */
export function flushedNoticeUrl(env: NodeJS.ProcessEnv): string | undefined {
  const explicitPort = port(env.OBSERVED_RECEIVER_PORT);
  if (explicitPort !== undefined) return `http://127.0.0.1:${explicitPort}/observed/v1/flushed`;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || DEFAULT_OTLP_ENDPOINT;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (!LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return `http://127.0.0.1:${port(url.port) ?? DEFAULT_RECEIVER_PORT}/observed/v1/flushed`;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function port(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}
