/**
 * What the extension subscribes to on the Telemetry API, from OBSERVED_* variables,
 * validated against Lambda's accepted ranges. The lifecycle module sends it:
 *
 *   PUT http://${AWS_LAMBDA_RUNTIME_API}/2022-07-01/telemetry
 *   Lambda-Extension-Identifier: <id>
 *   { schemaVersion, types, buffering: { maxItems, maxBytes, timeoutMs },
 *     destination: { protocol: "HTTP", URI: "http://sandbox.localdomain:<port>" } }
 *
 * Variables:
 * - OBSERVED_TELEMETRY_TYPES: comma-separated subset of platform,function,extension
 *   (default all three); `none` subscribes to nothing (no platform telemetry at all).
 * - OBSERVED_TELEMETRY_MAX_ITEMS: 1000..10000 (default 1000).
 * - OBSERVED_TELEMETRY_MAX_BYTES: 262144..1048576 (default 262144).
 * - OBSERVED_TELEMETRY_TIMEOUT_MS: 25..30000 (default 25): how long Lambda
 *   buffers before it delivers. A function without the flushed notice makes
 *   the extension wait for platform.runtimeDone, so this delay is paid on
 *   every such invocation; 25 ms is Lambda's minimum.
 */
import { type ConfigReader, type Env, readFrom } from '../env/reader.js';

export const TELEMETRY_SCHEMA_VERSION = '2022-12-13';

export const TELEMETRY_TYPES = ['platform', 'function', 'extension'] as const;
export type TelemetryType = (typeof TELEMETRY_TYPES)[number];

export interface TelemetryBuffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export interface TelemetrySubscription {
  types: TelemetryType[];
  buffering: TelemetryBuffering;
}

export const BUFFERING_LIMITS: { [K in keyof TelemetryBuffering]: { min: number; max: number; default: number } } = {
  maxItems: { min: 1_000, max: 10_000, default: 1_000 },
  maxBytes: { min: 262_144, max: 1_048_576, default: 262_144 },
  timeoutMs: { min: 25, max: 30_000, default: 25 },
};

const VARIABLES: { [K in keyof TelemetryBuffering]: string } = {
  maxItems: 'OBSERVED_TELEMETRY_MAX_ITEMS',
  maxBytes: 'OBSERVED_TELEMETRY_MAX_BYTES',
  timeoutMs: 'OBSERVED_TELEMETRY_TIMEOUT_MS',
};

/**
 * The subscription the environment asks for. Invalid values fall back to
 * their default and are listed in `errors` (messages name the variable and
 * what it accepts), so bad configuration never stops the extension.
 */
export function telemetrySubscriptionFromEnv(env: Env = process.env): {
  subscription: TelemetrySubscription;
  errors: string[];
} {
  const { options, warnings } = readFrom(env, readTelemetrySubscription);
  return { subscription: options, errors: warnings };
}

export function readTelemetrySubscription(reader: ConfigReader): TelemetrySubscription {
  let types: TelemetryType[] = [...TELEMETRY_TYPES];
  const rawTypes = reader.raw('OBSERVED_TELEMETRY_TYPES');
  if (rawTypes) {
    if (rawTypes.toLowerCase() === 'none') types = [];
    else {
      const wanted = rawTypes.split(',').map((t) => t.trim().toLowerCase());
      const unknown = wanted.filter((t) => !(TELEMETRY_TYPES as readonly string[]).includes(t));
      types = TELEMETRY_TYPES.filter((t) => wanted.includes(t));
      if (unknown.length > 0) {
        if (types.length === 0) types = [...TELEMETRY_TYPES];
        reader.warn(
          'OBSERVED_TELEMETRY_TYPES',
          rawTypes,
          `a comma-separated subset of ${TELEMETRY_TYPES.join(',')}, or none`,
          `unknown type(s) ${unknown.join(', ')} left out; subscribing to ${types.join(',')}`,
        );
      }
    }
  }
  const buffering = {} as TelemetryBuffering;
  for (const key of Object.keys(BUFFERING_LIMITS) as (keyof TelemetryBuffering)[]) {
    const limits = BUFFERING_LIMITS[key];
    buffering[key] = reader.integer(VARIABLES[key], limits.default, limits.min, limits.max);
  }
  return { types, buffering };
}

/** The body of the Telemetry API subscribe request. */
export function subscribeRequestBody(subscription: TelemetrySubscription, destinationUri: string) {
  return {
    schemaVersion: TELEMETRY_SCHEMA_VERSION,
    types: subscription.types,
    buffering: subscription.buffering,
    destination: { protocol: 'HTTP', URI: destinationUri },
  };
}

/**
 * Why the Telemetry API refused a subscription, or undefined when it took it. A 2xx status is not enough:
 * AWS's Runtime Interface Emulator (behind `sam local` and container images run locally) answers
 * `202 Accepted` with `{"errorType":"Telemetry.NotSupported",...}` and then delivers nothing, so the body's
 * errorType counts as a refusal too.
 */
export function subscriptionRefusal(status: number, body: string): string | undefined {
  let error: { errorType?: unknown; errorMessage?: unknown } | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') error = parsed as typeof error;
  } catch {
    // Lambda answers "OK" (not JSON) on success.
  }
  const errorType = typeof error?.errorType === 'string' ? error.errorType : undefined;
  if (status >= 200 && status < 300 && !errorType) return undefined;
  const message = typeof error?.errorMessage === 'string' ? `: ${error.errorMessage}` : '';
  return errorType ? `HTTP ${status} ${errorType}${message}` : `HTTP ${status}: ${body.slice(0, 200)}`;
}
