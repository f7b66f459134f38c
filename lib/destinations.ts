import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ICollectionRef } from 'aws-cdk-lib/aws-opensearchserverless';
import type * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV } from './environment.js';
import type { IPrometheusWorkspace } from './prometheus-workspace.js';

/** What a destination adds to a function: environment variables (its IAM is granted while binding). */
export interface TelemetryDestinationConfig {
  /** Environment variables the extension reads for this destination. */
  readonly environment: { [name: string]: string };
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
   */
  readonly headersSecret?: secretsmanager.ISecret;
}

/** Options of a Prometheus Pushgateway destination. */
export interface PushgatewayDestinationOptions {
  /** Base URL of the Pushgateway, e.g. `http://pushgateway.internal:9091`. */
  readonly url: string;
}

/** Options of an OpenSearch destination (log records, and spans when `tracesIndex` is set). */
export interface OpenSearchDestinationOptions {
  /**
   * An Amazon OpenSearch Service domain; the function may POST to its `_bulk` API (SigV4, service `es`).
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
}

/** Where an observed function's telemetry goes. A function may have several, at most one of each kind. */
export abstract class TelemetryDestination {
  /** Metrics to an Amazon Managed Service for Prometheus workspace (remote write, SigV4). */
  public static prometheus(workspace: IPrometheusWorkspace): TelemetryDestination {
    if (workspace === undefined || workspace === null) {
      throw new Error('TelemetryDestination.prometheus: a workspace is required (a PrometheusWorkspace)');
    }
    return new PrometheusDestination(workspace);
  }

  /** Traces, metrics and logs to an OTLP/HTTP endpoint. */
  public static otlp(options: OtlpDestinationOptions): TelemetryDestination {
    requireUrl(
      'TelemetryDestination.otlp',
      'endpoint',
      options?.endpoint,
      'the base URL of an OTLP/HTTP endpoint, e.g. https://otlp.example.com:4318',
    );
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

class PrometheusDestination extends TelemetryDestination {
  public readonly kind = 'prometheus';
  constructor(private readonly workspace: IPrometheusWorkspace) {
    super();
  }
  public bind(_scope: Construct, grantee: iam.IGrantable): TelemetryDestinationConfig {
    this.workspace.grantRemoteWrite(grantee);
    return { environment: { [ENV.remoteWriteUrl]: this.workspace.remoteWriteUrl } };
  }
}

class OtlpDestination extends TelemetryDestination {
  public readonly kind = 'otlp';
  constructor(private readonly options: OtlpDestinationOptions) {
    super();
  }
  public bind(_scope: Construct, grantee: iam.IGrantable): TelemetryDestinationConfig {
    const environment: { [name: string]: string } = { [ENV.otlpEndpoint]: this.options.endpoint };
    if (this.options.headersSecret !== undefined) {
      this.options.headersSecret.grantRead(grantee);
      environment[ENV.otlpHeadersSecretArn] = this.options.headersSecret.secretArn;
    }
    return { environment };
  }
}

class PushgatewayDestination extends TelemetryDestination {
  public readonly kind = 'pushgateway';
  constructor(private readonly options: PushgatewayDestinationOptions) {
    super();
  }
  public bind(_scope: Construct, _grantee: iam.IGrantable): TelemetryDestinationConfig {
    return { environment: { [ENV.pushgatewayUrl]: this.options.url } };
  }
}

class OpenSearchDestination extends TelemetryDestination {
  public readonly kind = 'opensearch';
  constructor(private readonly options: OpenSearchDestinationOptions) {
    super();
  }
  public bind(_scope: Construct, grantee: iam.IGrantable): TelemetryDestinationConfig {
    const environment: { [name: string]: string } = {};
    const { domain, collection } = this.options;
    if (domain !== undefined) {
      // The extension POSTs every document to `<endpoint>/_bulk`: that is all it needs.
      iam.Grant.addToPrincipal({ grantee, actions: ['es:ESHttpPost'], resourceArns: [`${domain.domainArn}/_bulk`] });
      environment[ENV.openSearchEndpoint] = `https://${domain.domainEndpoint}`;
    } else if (collection !== undefined) {
      // Serverless authorizes in two steps: IAM lets the role reach the collection's API at all, and the
      // collection's data access policy (the user's) says which indexes it may write.
      const { collectionId, collectionArn } = collection.collectionRef;
      iam.Grant.addToPrincipal({ grantee, actions: ['aoss:APIAccessAll'], resourceArns: [collectionArn] });
      const stack = Stack.of(collection);
      environment[ENV.openSearchEndpoint] = `https://${collectionId}.${stack.region}.aoss.${stack.urlSuffix}`;
      environment[ENV.openSearchSigv4Service] = 'aoss';
    } else {
      environment[ENV.openSearchEndpoint] = this.options.endpoint!;
    }
    if (this.options.logsIndex !== undefined) environment[ENV.openSearchIndex] = this.options.logsIndex;
    if (this.options.tracesIndex !== undefined) environment[ENV.openSearchTracesIndex] = this.options.tracesIndex;
    return { environment };
  }
}
