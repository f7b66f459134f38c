import { type Duration, type Size, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ICollectionRef } from 'aws-cdk-lib/aws-opensearchserverless';
import type * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV } from './environment.js';
import type { IPrometheusWorkspace } from './prometheus-workspace.js';
import { type DestinationBinding, environmentOf, SettingsBuilder } from './settings.js';
import { StoredSecret } from './stored-secret.js';

/** Credentials for an HTTP backend, each read from Secrets Manager or SSM by the extension at start. */
export interface HttpCredentials {
  /**
   * Request headers (e.g. an API key or a tenant), as a JSON object (`{"x-api-key": "..."}`) or
   * `name=value,...`.
   * @default - no headers from a secret
   */
  readonly headers?: StoredSecret;

  /**
   * A bearer token (the value is the token), sent as `authorization: Bearer <token>`.
   * @default - none
   */
  readonly bearerToken?: StoredSecret;

  /**
   * Basic auth credentials, `{"username": "...", "password": "..."}` or `username:password`, sent as
   * `authorization: Basic ...`.
   * @default - none
   */
  readonly basicAuth?: StoredSecret;
}

/** How request bodies are compressed. */
export enum Compression {
  /** gzip (`Content-Encoding: gzip`). */
  GZIP = 'gzip',
  /** Uncompressed. */
  NONE = 'none',
}

/** Encoding of OTLP/HTTP requests (`OBSERVED_OTLP_PROTOCOL`). */
export enum OtlpProtocol {
  /** Binary protobuf (`application/x-protobuf`). */
  HTTP_PROTOBUF = 'http/protobuf',
  /** JSON (`application/json`). */
  HTTP_JSON = 'http/json',
}

/**
 * How OTLP metrics become Prometheus series (the `OBSERVED_PROMETHEUS_*` settings). The remote write and
 * Pushgateway exporters share them: a function with both destinations must give both the same values.
 */
export interface PrometheusSeriesOptions {
  /**
   * Labels added to every series, e.g. `{ cluster: 'prod', __replica__: 'a' }` for one member of an HA pair
   * (Cortex and Amazon Managed Service for Prometheus deduplicate on `cluster` and `__replica__`).
   * @default - none
   */
  readonly externalLabels?: { [name: string]: string };

  /**
   * Resource attributes copied onto every series as labels (e.g. `['faas.name', 'cloud.region']`); all others
   * stay on `target_info`.
   * @default - none
   */
  readonly resourceLabels?: string[];

  /**
   * Whether every series gets `otel_scope_name` and `otel_scope_version` labels.
   * @default true
   */
  readonly scopeLabels?: boolean;

  /**
   * Whether one `target_info` series per resource carries its attributes.
   * @default true
   */
  readonly targetInfo?: boolean;

  /**
   * Longest label value in UTF-8 bytes (64 to 1048576); a longer one is cut and ends with a hash of the whole.
   * @default 2048
   */
  readonly maxLabelValueLength?: number;

  /**
   * Most labels per series (4 to 10000), `__name__` included; a data point that would need more is dropped and
   * counted. Amazon Managed Service for Prometheus allows 70.
   * @default 70
   */
  readonly maxLabels?: number;
}

/** Options of an Amazon Managed Service for Prometheus destination (remote write). */
export interface PrometheusDestinationOptions extends PrometheusSeriesOptions {
  /**
   * Whether exponential histograms are sent as native histograms (the workspace must accept them); otherwise
   * as classic `_bucket{le}` series.
   * @default false
   */
  readonly nativeHistograms?: boolean;

  /**
   * Samples per remote write request (1 or more).
   * @default 1000
   */
  readonly maxSamplesPerRequest?: number;

  /**
   * Uncompressed protobuf bytes per remote write request (1 KiB or more).
   * @default Size.bytes(1000000)
   */
  readonly maxRequestSize?: Size;

  /**
   * Samples kept while the workspace is unreachable; beyond it the oldest are dropped and counted.
   * @default 50000
   */
  readonly queueSamples?: number;

  /**
   * Approximate memory of that queue (64 KiB or more).
   * @default Size.mebibytes(16)
   */
  readonly queueSize?: Size;

  /**
   * Series remembered for the staleness markers sent at shutdown.
   * @default 20000
   */
  readonly staleSeries?: number;

  /**
   * Timeout of one remote write HTTP attempt (retries stay inside the flush deadline).
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
}

/** What a destination adds to a function: environment variables (its IAM is granted while binding). */
export interface TelemetryDestinationConfig {
  /** Environment variables the extension reads for this destination. */
  readonly environment: { [name: string]: string };
}

/** Options of a Prometheus remote write destination other than Amazon Managed Service for Prometheus. */
export interface RemoteWriteDestinationOptions extends PrometheusDestinationOptions, HttpCredentials {
  /** The full remote write URL, e.g. `https://cortex.internal/api/v1/push`. */
  readonly url: string;
}

/** Options of an OTLP/HTTP destination. */
export interface OtlpDestinationOptions {
  /**
   * Base URL of the OTLP/HTTP endpoint; the extension appends `/v1/traces`, `/v1/metrics` and `/v1/logs`
   * (the meaning of OTEL_EXPORTER_OTLP_ENDPOINT), e.g. `https://otlp.example.com:4318`.
   */
  readonly endpoint: string;

  /**
   * A Secrets Manager secret whose value holds the request headers (e.g. an API key), as
   * `name=value` pairs separated by commas, like OTEL_EXPORTER_OTLP_HEADERS, or as a JSON object. The extension reads it once
   * at init; the function's role may read this secret and no other.
   * @default - no extra headers
   * @deprecated use `headers: StoredSecret.fromSecret(secret)`, which also takes an SSM parameter
   */
  readonly headersSecret?: secretsmanager.ISecret;

  /**
   * Request headers (e.g. an API key), read by the extension at start from Secrets Manager or SSM: a JSON object
   * (`{"api-key": "..."}`) or `name=value,...` pairs, like OTEL_EXPORTER_OTLP_HEADERS.
   * @default - no extra headers
   */
  readonly headers?: StoredSecret;

  /**
   * Encoding of the requests.
   * @default OtlpProtocol.HTTP_PROTOBUF
   */
  readonly protocol?: OtlpProtocol;

  /**
   * Compression of request bodies.
   * @default Compression.NONE
   */
  readonly compression?: Compression;

  /**
   * Timeout of one HTTP attempt (1 ms to 10 minutes); retries stay inside the flush deadline.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * Largest request body before compression (1 KiB to 64 MiB); more queued data goes in several requests.
   * @default Size.mebibytes(4)
   */
  readonly maxRequestSize?: Size;
}

/** Options of a Prometheus Pushgateway destination. */
export interface PushgatewayDestinationOptions extends PrometheusSeriesOptions, HttpCredentials {
  /** Base URL of the Pushgateway, e.g. `http://pushgateway.internal:9091`. */
  readonly url: string;

  /**
   * Whether the environment's group is deleted at shutdown (the Pushgateway otherwise keeps one group per
   * finished execution environment).
   * @default false
   */
  readonly deleteOnShutdown?: boolean;

  /**
   * Timeout of one Pushgateway HTTP attempt.
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;

  /**
   * Series whose current value is kept and pushed; beyond it the least recently updated leave the group.
   * @default 20000
   */
  readonly maxSeries?: number;
}

/** Options of an OpenSearch destination (log records, and spans when `tracesIndex` is set). */
export interface OpenSearchDestinationOptions {
  /**
   * An Amazon OpenSearch Service domain; the function may POST to its `_bulk` API (SigV4, service `es`), and
   * nothing more. With `basicAuth` the extension signs nothing and the function gets no OpenSearch action.
   * Give one of `domain`, `collection` or `endpoint`.
   * @default - use `collection` or `endpoint`
   */
  readonly domain?: opensearch.IDomain;

  /**
   * An Amazon OpenSearch Serverless collection (e.g. a `CfnCollection`); the function gets `aoss:APIAccessAll` on it
   * and signs with SigV4, service `aoss`. The collection's data access policy must still let the function's role
   * write: `aoss:CreateIndex`, `aoss:UpdateIndex`, `aoss:DescribeIndex` and `aoss:WriteDocument` on
   * `index/<collection name>/*` (README, "OpenSearch Serverless").
   * Give one of `domain`, `collection` or `endpoint`.
   * @default - use `domain` or `endpoint`
   */
  readonly collection?: ICollectionRef;

  /**
   * Base URL of an OpenSearch or Elasticsearch endpoint outside this app (no IAM is granted for it).
   * Give one of `domain`, `collection` or `endpoint`.
   * @default - use `domain` or `collection`
   */
  readonly endpoint?: string;

  /**
   * Index for log records; `%{yyyy}`, `%{MM}`, `%{dd}`, `%{HH}` are replaced from each record's time.
   * @default - the extension's default, `otel-logs-%{yyyy.MM.dd}`
   */
  readonly logsIndex?: string;

  /**
   * Index for spans, with the same date patterns.
   * @default - spans are not sent to OpenSearch
   */
  readonly tracesIndex?: string;

  /**
   * Basic auth credentials (fine-grained access control's internal users, Elasticsearch), read by the extension
   * at start: `{"username": "...", "password": "..."}` (a Secrets Manager secret as RDS and OpenSearch create
   * them) or `username:password`. Sent instead of SigV4, so a `domain` grants the function no OpenSearch action;
   * OpenSearch Serverless (`collection`) takes SigV4 only.
   * @default - SigV4 for AWS endpoints, no auth for others
   */
  readonly basicAuth?: StoredSecret;

  /**
   * Compression of `_bulk` request bodies.
   * @default Compression.NONE
   */
  readonly compression?: Compression;

  /**
   * NDJSON bytes per `_bulk` request (10000 bytes or more).
   * @default Size.bytes(5000000)
   */
  readonly maxBulkSize?: Size;

  /**
   * Documents kept while OpenSearch is unreachable; beyond it the oldest are dropped and counted.
   * @default 10000
   */
  readonly queueDocuments?: number;

  /**
   * Timeout of one `_bulk` HTTP attempt.
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
}

/** Where an observed function's telemetry goes. A function may have several, at most one of each kind. */
export abstract class TelemetryDestination {
  /** Metrics to an Amazon Managed Service for Prometheus workspace (remote write, SigV4). */
  public static prometheus(
    workspace: IPrometheusWorkspace,
    options: PrometheusDestinationOptions = {},
  ): TelemetryDestination {
    if (workspace === undefined || workspace === null) {
      throw new Error('TelemetryDestination.prometheus: a workspace is required (a PrometheusWorkspace)');
    }
    return new PrometheusDestination({ ...options, workspace });
  }

  /**
   * Metrics to any Prometheus remote write receiver (Cortex, Mimir, Thanos, Prometheus), with credentials from
   * Secrets Manager or SSM. For Amazon Managed Service for Prometheus use `prometheus(workspace)`.
   */
  public static remoteWrite(options: RemoteWriteDestinationOptions): TelemetryDestination {
    requireUrl(
      'TelemetryDestination.remoteWrite',
      'url',
      options?.url,
      'the full remote write URL, e.g. https://cortex.internal/api/v1/push',
    );
    return new PrometheusDestination(options);
  }

  /** Traces, metrics and logs to an OTLP/HTTP endpoint. */
  public static otlp(options: OtlpDestinationOptions): TelemetryDestination {
    requireUrl(
      'TelemetryDestination.otlp',
      'endpoint',
      options?.endpoint,
      'the base URL of an OTLP/HTTP endpoint, e.g. https://otlp.example.com:4318',
    );
    if (options.headers !== undefined && options.headersSecret !== undefined) {
      throw new Error('TelemetryDestination.otlp: give `headers` or the older `headersSecret`, not both');
    }
    return new OtlpDestination(options);
  }

  /** Metrics to a Prometheus Pushgateway. */
  public static pushgateway(options: PushgatewayDestinationOptions): TelemetryDestination {
    requireUrl(
      'TelemetryDestination.pushgateway',
      'url',
      options?.url,
      'the base URL of the Pushgateway, e.g. http://pushgateway:9091',
    );
    return new PushgatewayDestination(options);
  }

  /** Log records (and optionally spans) to OpenSearch. */
  public static openSearch(options: OpenSearchDestinationOptions): TelemetryDestination {
    const given = [options?.domain, options?.collection, options?.endpoint].filter((v) => v !== undefined);
    if (given.length !== 1) {
      throw new Error(
        'TelemetryDestination.openSearch: give exactly one of `domain` (an OpenSearch Service domain), `collection` (an OpenSearch Serverless collection) or `endpoint` (a base URL)',
      );
    }
    if (options.collection !== undefined && options.basicAuth !== undefined) {
      throw new Error(
        "TelemetryDestination.openSearch: OpenSearch Serverless takes only SigV4-signed requests, not basic auth: drop `basicAuth` and name the function's role in the collection's data access policy",
      );
    }
    if (options.endpoint !== undefined) {
      requireUrl(
        'TelemetryDestination.openSearch',
        'endpoint',
        options.endpoint,
        'the base URL of an OpenSearch endpoint',
      );
    }
    return new OpenSearchDestination(options);
  }

  /** The kind of destination; a function takes at most one of each kind. */
  public abstract readonly kind: string;

  /** Grants `grantee` what the extension needs to write here, and returns the environment it reads. */
  public abstract bind(scope: Construct, grantee: iam.IGrantable): TelemetryDestinationConfig;
}

/** The destinations of this library: their settings also say which option each came from. */
abstract class BuiltInDestination<Options> extends TelemetryDestination {
  constructor(protected readonly options: Options) {
    super();
  }

  public bind(_scope: Construct, grantee: iam.IGrantable): TelemetryDestinationConfig {
    const binding = this.binding();
    binding.grant(grantee);
    return { environment: environmentOf(binding.settings) };
  }

  /** The destination's settings and grants. */
  public abstract binding(): DestinationBinding;
}

/**
 * The settings of `destination` and its grants. A destination of another library grants while it binds, so
 * `grantee` gets its grants at once.
 */
export function bindDestination(
  destination: TelemetryDestination,
  scope: Construct,
  grantee: iam.IGrantable,
): DestinationBinding {
  if (destination instanceof BuiltInDestination) return (destination as BuiltInDestination<unknown>).binding();
  const { environment } = destination.bind(scope, grantee);
  const prop = `telemetry.destinations (${destination.kind})`;
  const settings = Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, { value, prop }]));
  return { settings, grant: () => {} };
}

/** The OBSERVED_PROMETHEUS_* settings of a destination's options. */
function seriesSettings(settings: SettingsBuilder, options: PrometheusSeriesOptions): SettingsBuilder {
  return settings
    .pairs(ENV.prometheusExternalLabels, 'externalLabels', options.externalLabels)
    .list(ENV.prometheusResourceLabels, 'resourceLabels', options.resourceLabels)
    .flag(ENV.prometheusScopeLabels, 'scopeLabels', options.scopeLabels)
    .flag(ENV.prometheusTargetInfo, 'targetInfo', options.targetInfo)
    .number(ENV.prometheusMaxLabelValueLength, 'maxLabelValueLength', options.maxLabelValueLength)
    .number(ENV.prometheusMaxLabels, 'maxLabels', options.maxLabels);
}

/** The stored credentials of an HTTP destination, each to the extension's variable for it. */
function credentialSettings(
  settings: SettingsBuilder,
  credentials: HttpCredentials,
  variables: Record<keyof HttpCredentials, string>,
): SettingsBuilder {
  for (const name of ['headers', 'bearerToken', 'basicAuth'] as const) {
    settings.secret(variables[name], name, credentials[name]);
  }
  return settings;
}

function requireUrl(where: string, field: string, value: string | undefined, what: string): void {
  if (value === undefined || value === null || value === '') {
    throw new Error(`${where}: \`${field}\` is required (${what})`);
  }
  if (Token.isUnresolved(value)) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${where}: \`${field}\` must be an http(s) URL (${what}); got "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`${where}: \`${field}\` must be an http(s) URL (${what}); got "${value}"`);
  }
}

/** Remote write to a workspace (AMP, SigV4) or to a URL of its own with stored credentials. */
type PrometheusOptions = PrometheusDestinationOptions &
  Partial<RemoteWriteDestinationOptions> & { readonly workspace?: IPrometheusWorkspace };

class PrometheusDestination extends BuiltInDestination<PrometheusOptions> {
  public readonly kind = 'prometheus';
  public binding(): DestinationBinding {
    const o = this.options;
    const workspace = o.workspace;
    const settings = new SettingsBuilder(
      workspace ? 'TelemetryDestination.prometheus(workspace, { ... }).' : 'TelemetryDestination.remoteWrite({ ... }).',
    );
    if (workspace) {
      settings.text(ENV.remoteWriteUrl, 'workspace', workspace.remoteWriteUrl);
    } else {
      // Credentials of its own replace SigV4, which only an AMP host would get.
      credentialSettings(settings.text(ENV.remoteWriteUrl, 'url', o.url), o, {
        headers: ENV.remoteWriteHeadersSecretArn,
        bearerToken: ENV.remoteWriteBearerTokenSecretArn,
        basicAuth: ENV.remoteWriteBasicAuthSecretArn,
      });
    }
    seriesSettings(settings, o)
      .flag(ENV.prometheusNativeHistograms, 'nativeHistograms', o.nativeHistograms)
      .number(ENV.remoteWriteMaxSamples, 'maxSamplesPerRequest', o.maxSamplesPerRequest)
      .bytes(ENV.remoteWriteMaxBytes, 'maxRequestSize', o.maxRequestSize)
      .number(ENV.remoteWriteQueueSamples, 'queueSamples', o.queueSamples)
      .bytes(ENV.remoteWriteQueueBytes, 'queueSize', o.queueSize)
      .number(ENV.remoteWriteStaleSeries, 'staleSeries', o.staleSeries)
      .millis(ENV.remoteWriteTimeoutMs, 'timeout', o.timeout);
    return settings.binding((grantee) => workspace?.grantRemoteWrite(grantee));
  }
}

class OtlpDestination extends BuiltInDestination<OtlpDestinationOptions> {
  public readonly kind = 'otlp';
  public binding(): DestinationBinding {
    const o = this.options;
    const headers = o.headers ?? (o.headersSecret && StoredSecret.fromSecret(o.headersSecret));
    const settings = new SettingsBuilder('TelemetryDestination.otlp({ ... }).')
      .text(ENV.otlpEndpoint, 'endpoint', o.endpoint)
      .secret(ENV.otlpHeadersSecretArn, o.headers ? 'headers' : 'headersSecret', headers)
      .text(ENV.otlpProtocol, 'protocol', o.protocol)
      .text(ENV.otlpCompression, 'compression', o.compression)
      .millis(ENV.otlpTimeout, 'timeout', o.timeout)
      .bytes(ENV.otlpMaxRequestBytes, 'maxRequestSize', o.maxRequestSize);
    return settings.binding();
  }
}

class PushgatewayDestination extends BuiltInDestination<PushgatewayDestinationOptions> {
  public readonly kind = 'pushgateway';
  public binding(): DestinationBinding {
    const o = this.options;
    const settings = seriesSettings(new SettingsBuilder('TelemetryDestination.pushgateway({ ... }).'), o);
    credentialSettings(settings.text(ENV.pushgatewayUrl, 'url', o.url), o, {
      headers: ENV.pushgatewayHeadersSecretArn,
      bearerToken: ENV.pushgatewayBearerTokenSecretArn,
      basicAuth: ENV.pushgatewayBasicAuthSecretArn,
    })
      .flag(ENV.pushgatewayDeleteOnShutdown, 'deleteOnShutdown', o.deleteOnShutdown)
      .millis(ENV.pushgatewayTimeoutMs, 'timeout', o.timeout)
      .number(ENV.pushgatewayMaxSeries, 'maxSeries', o.maxSeries);
    return settings.binding();
  }
}

class OpenSearchDestination extends BuiltInDestination<OpenSearchDestinationOptions> {
  public readonly kind = 'opensearch';
  public binding(): DestinationBinding {
    const o = this.options;
    const settings = new SettingsBuilder('TelemetryDestination.openSearch({ ... }).');
    let grantAccess: ((grantee: iam.IGrantable) => void) | undefined;
    if (o.domain !== undefined) {
      const bulkArn = `${o.domain.domainArn}/_bulk`;
      // The extension POSTs every document to `<endpoint>/_bulk`, signed unless it sends basic auth: then the
      // domain's access policy and fine-grained access control decide, and IAM would grant nothing of use.
      if (o.basicAuth === undefined) {
        grantAccess = (grantee) =>
          iam.Grant.addToPrincipal({ grantee, actions: ['es:ESHttpPost'], resourceArns: [bulkArn] });
      }
      settings.text(ENV.openSearchEndpoint, 'domain', `https://${o.domain.domainEndpoint}`);
    } else if (o.collection !== undefined) {
      // Serverless authorizes in two steps: IAM lets the role reach the collection's API at all, and the
      // collection's data access policy (the user's) says which indexes it may write.
      const { collectionId, collectionArn } = o.collection.collectionRef;
      grantAccess = (grantee) =>
        iam.Grant.addToPrincipal({ grantee, actions: ['aoss:APIAccessAll'], resourceArns: [collectionArn] });
      const stack = Stack.of(o.collection);
      settings
        .text(ENV.openSearchEndpoint, 'collection', `https://${collectionId}.${stack.region}.aoss.${stack.urlSuffix}`)
        .text(ENV.openSearchSigv4Service, 'collection', 'aoss');
    } else {
      settings.text(ENV.openSearchEndpoint, 'endpoint', o.endpoint);
    }
    settings
      .secret(ENV.openSearchBasicAuthSecretArn, 'basicAuth', o.basicAuth)
      .text(ENV.openSearchIndex, 'logsIndex', o.logsIndex)
      .text(ENV.openSearchTracesIndex, 'tracesIndex', o.tracesIndex)
      .text(ENV.openSearchCompression, 'compression', o.compression)
      .bytes(ENV.openSearchMaxBytes, 'maxBulkSize', o.maxBulkSize)
      .number(ENV.openSearchQueueDocuments, 'queueDocuments', o.queueDocuments)
      .millis(ENV.openSearchTimeoutMs, 'timeout', o.timeout);
    return settings.binding(grantAccess);
  }
}
