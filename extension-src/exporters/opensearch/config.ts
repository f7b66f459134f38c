/**
 * OpenSearch / Elasticsearch settings from the environment:
 *
 * - OBSERVED_OPENSEARCH_ENDPOINT: base URL of the domain or collection
 *   (`https://search-x.eu-west-1.es.amazonaws.com`, `https://x.eu-west-1.aoss.amazonaws.com`,
 *   or any OpenSearch/Elasticsearch URL); `/_bulk` is appended. Unset disables the exporter.
 * - OBSERVED_OPENSEARCH_INDEX: index for log records, with an optional date
 *   pattern `%{...}` (yyyy, yy, MM, dd, HH; UTC, from each record's time).
 *   Default `otel-logs-%{yyyy.MM.dd}`.
 * - OBSERVED_OPENSEARCH_TRACES_INDEX: index for spans; unset (default) sends no spans.
 * - OBSERVED_OPENSEARCH_AUTH: `auto` (default: `sigv4` for *.es.amazonaws.com and
 *   *.aoss.amazonaws.com hosts, `basic` when a username is set, else `none`),
 *   `sigv4`, `basic`, `none`.
 * - OBSERVED_OPENSEARCH_USERNAME / OBSERVED_OPENSEARCH_PASSWORD: basic auth.
 * - OBSERVED_OPENSEARCH_SIGV4_SERVICE: `es` (managed domains) or `aoss`
 *   (Serverless); default from the host name. The region comes from the host
 *   name, else AWS_REGION.
 * - OBSERVED_OPENSEARCH_MAX_BYTES: NDJSON bytes per _bulk request (default 5 MB).
 * - OBSERVED_OPENSEARCH_QUEUE_DOCUMENTS: documents held while the backend is
 *   unreachable, oldest dropped (and counted) beyond it (default 10000).
 * - OBSERVED_OPENSEARCH_TIMEOUT_MS: per HTTP attempt (default 5000).
 * - OBSERVED_OPENSEARCH_COMPRESSION: `gzip` or `none` (default).
 */
import { regionFromEnv } from '../../aws/credentials.js';
import { type Env, type Parsed, parsePositiveInt } from '../../translate/config.js';

export type OpenSearchAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'sigv4'; readonly service: 'es' | 'aoss'; readonly region: string };

export interface OpenSearchOptions {
  readonly endpoint: URL;
  readonly logsIndex: string;
  readonly tracesIndex: string | undefined;
  readonly auth: OpenSearchAuth;
  readonly maxBytes: number;
  readonly maxQueuedDocuments: number;
  readonly timeoutMs: number;
  readonly gzip: boolean;
}

export const OPENSEARCH_DEFAULTS = {
  logsIndex: 'otel-logs-%{yyyy.MM.dd}',
  maxBytes: 5_000_000,
  maxQueuedDocuments: 10_000,
  timeoutMs: 5_000,
};

const AWS_HOST = /^[^.]+\.([a-z0-9-]+)\.(es|aoss)\.amazonaws\.com(?:\.cn)?$/;

/** undefined options when OBSERVED_OPENSEARCH_ENDPOINT is unset or unusable (the warning says why). */
export function parseOpenSearchOptions(env: Env): Parsed<OpenSearchOptions | undefined> {
  const warnings: string[] = [];
  const raw = env.OBSERVED_OPENSEARCH_ENDPOINT?.trim();
  if (!raw) return { options: undefined, warnings };
  let endpoint: URL;
  try {
    endpoint = new URL(raw);
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') throw new Error('scheme');
  } catch {
    warnings.push(
      `OBSERVED_OPENSEARCH_ENDPOINT=${raw} is not valid; accepted values: an http(s) URL such as https://search-<domain>.<region>.es.amazonaws.com (OpenSearch disabled)`,
    );
    return { options: undefined, warnings };
  }
  const aws = AWS_HOST.exec(endpoint.hostname);
  const username = env.OBSERVED_OPENSEARCH_USERNAME?.trim();
  const mode = env.OBSERVED_OPENSEARCH_AUTH?.trim().toLowerCase() || 'auto';
  let kind: OpenSearchAuth['kind'];
  if (mode === 'auto') kind = aws ? 'sigv4' : username ? 'basic' : 'none';
  else if (mode === 'sigv4' || mode === 'basic' || mode === 'none') kind = mode;
  else {
    warnings.push(
      `OBSERVED_OPENSEARCH_AUTH=${env.OBSERVED_OPENSEARCH_AUTH} is not valid; accepted values: auto, sigv4, basic, none (using auto)`,
    );
    kind = aws ? 'sigv4' : username ? 'basic' : 'none';
  }
  let auth: OpenSearchAuth = { kind: 'none' };
  if (kind === 'basic') {
    if (!username) {
      warnings.push('OBSERVED_OPENSEARCH_AUTH=basic needs OBSERVED_OPENSEARCH_USERNAME (sending without auth)');
    } else {
      auth = { kind: 'basic', username, password: env.OBSERVED_OPENSEARCH_PASSWORD ?? '' };
    }
  } else if (kind === 'sigv4') {
    const rawService = env.OBSERVED_OPENSEARCH_SIGV4_SERVICE?.trim().toLowerCase();
    let service: 'es' | 'aoss' = (aws?.[2] as 'es' | 'aoss' | undefined) ?? 'es';
    if (rawService === 'es' || rawService === 'aoss') service = rawService;
    else if (rawService) {
      warnings.push(
        `OBSERVED_OPENSEARCH_SIGV4_SERVICE=${rawService} is not valid; accepted values: es, aoss (using ${service})`,
      );
    }
    const region = aws?.[1] ?? regionFromEnv(env as NodeJS.ProcessEnv);
    if (!region) {
      warnings.push(
        'OBSERVED_OPENSEARCH_AUTH=sigv4 needs a region: set AWS_REGION (Lambda sets it) or use a *.<region>.es.amazonaws.com endpoint (sending unsigned)',
      );
    } else {
      auth = { kind: 'sigv4', service, region };
    }
  }
  const logsIndex = env.OBSERVED_OPENSEARCH_INDEX?.trim() || OPENSEARCH_DEFAULTS.logsIndex;
  const tracesIndex = env.OBSERVED_OPENSEARCH_TRACES_INDEX?.trim() || undefined;
  for (const [name, value] of [
    ['OBSERVED_OPENSEARCH_INDEX', logsIndex],
    ['OBSERVED_OPENSEARCH_TRACES_INDEX', tracesIndex],
  ] as const) {
    if (value && !/^[^A-Z\\/*?"<>| ,#:]+$/.test(value.replace(/%\{[^}]*\}/g, 'x'))) {
      warnings.push(
        `${name}=${value} is not a valid index name: lowercase, without spaces or any of \\ / * ? " < > | , # : (the backend will refuse it)`,
      );
    }
  }
  const compression = env.OBSERVED_OPENSEARCH_COMPRESSION?.trim().toLowerCase() || 'none';
  if (compression !== 'gzip' && compression !== 'none') {
    warnings.push(
      `OBSERVED_OPENSEARCH_COMPRESSION=${compression} is not valid; accepted values: gzip, none (using none)`,
    );
  }
  return {
    options: {
      endpoint,
      logsIndex,
      tracesIndex,
      auth,
      maxBytes: parsePositiveInt(env, 'OBSERVED_OPENSEARCH_MAX_BYTES', OPENSEARCH_DEFAULTS.maxBytes, warnings, 10_000),
      maxQueuedDocuments: parsePositiveInt(
        env,
        'OBSERVED_OPENSEARCH_QUEUE_DOCUMENTS',
        OPENSEARCH_DEFAULTS.maxQueuedDocuments,
        warnings,
        10,
      ),
      timeoutMs: parsePositiveInt(env, 'OBSERVED_OPENSEARCH_TIMEOUT_MS', OPENSEARCH_DEFAULTS.timeoutMs, warnings, 100),
      gzip: compression === 'gzip',
    },
    warnings,
  };
}
