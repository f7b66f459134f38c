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
 * - OBSERVED_OPENSEARCH_BASIC_AUTH_SECRET_ARN: basic auth credentials from Secrets
 *   Manager or SSM (aws/secrets.ts); with `auto` or `basic` they are the ones sent.
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
import { readSecretSources, type SecretSource } from '../../aws/secrets.js';
import { type ConfigReader, type Env, type Parsed, readFrom } from '../../env/reader.js';

export type OpenSearchAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'sigv4'; readonly service: 'es' | 'aoss'; readonly region: string };

export interface OpenSearchOptions {
  readonly endpoint: URL;
  readonly logsIndex: string;
  readonly tracesIndex: string | undefined;
  readonly auth: OpenSearchAuth;
  /** A secret holding basic auth credentials, read at start (it stands for `auth` basic). */
  readonly secrets?: readonly SecretSource[];
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
  return readFrom(env, readOpenSearchOptions);
}

export function readOpenSearchOptions(reader: ConfigReader): OpenSearchOptions | undefined {
  const endpoint = reader.url(
    'OBSERVED_OPENSEARCH_ENDPOINT',
    'https://search-<domain>.<region>.es.amazonaws.com',
    'OpenSearch disabled',
  );
  if (!endpoint) return undefined;
  const defaults = OPENSEARCH_DEFAULTS;
  const logsIndex = reader.raw('OBSERVED_OPENSEARCH_INDEX') ?? defaults.logsIndex;
  const tracesIndex = reader.raw('OBSERVED_OPENSEARCH_TRACES_INDEX');
  for (const [name, value] of [
    ['OBSERVED_OPENSEARCH_INDEX', logsIndex],
    ['OBSERVED_OPENSEARCH_TRACES_INDEX', tracesIndex],
  ] as const) {
    if (value && !/^[^A-Z\\/*?"<>| ,#:]+$/.test(value.replace(/%\{[^}]*\}/g, 'x'))) {
      reader.note(
        `${name}=${value} is not a valid index name: lowercase, without spaces or any of \\ / * ? " < > | , # : (the backend will refuse it)`,
      );
    }
  }
  return {
    endpoint,
    logsIndex,
    tracesIndex,
    ...readAuthAndSecrets(reader, endpoint),
    maxBytes: reader.integer('OBSERVED_OPENSEARCH_MAX_BYTES', defaults.maxBytes, 10_000),
    maxQueuedDocuments: reader.integer('OBSERVED_OPENSEARCH_QUEUE_DOCUMENTS', defaults.maxQueuedDocuments, 10),
    timeoutMs: reader.integer('OBSERVED_OPENSEARCH_TIMEOUT_MS', defaults.timeoutMs, 100),
    gzip: reader.oneOf('OBSERVED_OPENSEARCH_COMPRESSION', ['gzip', 'none'], 'none') === 'gzip',
  };
}

/** With a basic auth secret, `auto` and `basic` mean the secret's credentials: the `authorization` header is its. */
function readAuthAndSecrets(
  reader: ConfigReader,
  endpoint: URL,
): { auth: OpenSearchAuth; secrets: readonly SecretSource[] } {
  const secrets = readSecretSources(reader, 'OBSERVED_OPENSEARCH', ['basic-auth']);
  const mode = reader.oneOf('OBSERVED_OPENSEARCH_AUTH', ['auto', 'sigv4', 'basic', 'none'], 'auto');
  if (secrets.length > 0 && (mode === 'auto' || mode === 'basic')) return { auth: { kind: 'none' }, secrets };
  return { auth: readAuth(reader, endpoint, mode), secrets: mode === 'none' ? secrets : [] };
}

function readAuth(reader: ConfigReader, endpoint: URL, mode: 'auto' | 'sigv4' | 'basic' | 'none'): OpenSearchAuth {
  const aws = AWS_HOST.exec(endpoint.hostname);
  const username = reader.raw('OBSERVED_OPENSEARCH_USERNAME');
  const kind = mode === 'auto' ? (aws ? 'sigv4' : username ? 'basic' : 'none') : mode;
  if (kind === 'basic') {
    if (username) return { kind: 'basic', username, password: reader.env.OBSERVED_OPENSEARCH_PASSWORD ?? '' };
    reader.note('OBSERVED_OPENSEARCH_AUTH=basic needs OBSERVED_OPENSEARCH_USERNAME (sending without auth)');
  } else if (kind === 'sigv4') {
    const fromHost = (aws?.[2] as 'es' | 'aoss' | undefined) ?? 'es';
    const service = reader.oneOf('OBSERVED_OPENSEARCH_SIGV4_SERVICE', ['es', 'aoss'], fromHost);
    const region = aws?.[1] ?? regionFromEnv(reader.env);
    if (region) return { kind: 'sigv4', service, region };
    reader.note(
      'OBSERVED_OPENSEARCH_AUTH=sigv4 needs a region: set AWS_REGION (Lambda sets it) or use a *.<region>.es.amazonaws.com endpoint (sending unsigned)',
    );
  }
  return { kind: 'none' };
}
