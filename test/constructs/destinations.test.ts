import { Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as aoss from 'aws-cdk-lib/aws-opensearchserverless';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import {
  ExtensionLogLevel,
  FlushStrategy,
  ObserveFunctions,
  PrometheusWorkspace,
  StoredSecret,
  TelemetryDestination,
} from '../../lib/index.js';
import { inlineFunction, newStack, roleStatements } from './helpers.js';

function environmentOf(template: Template): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
  return fn.Properties.Environment.Variables as Record<string, unknown>;
}

/** Observes a new function of `stack` with `destination`: the function's environment and its role's statements. */
function observeWith(stack: Stack, destination: TelemetryDestination) {
  const fn = inlineFunction(stack, 'Fn');
  ObserveFunctions.observe(fn, { destinations: [destination] });
  const template = Template.fromStack(stack);
  return { env: environmentOf(template), statements: roleStatements(template, stack, fn) };
}

/** The template's reference to a secret, and the one statement that lets the extension read it. */
function secretRead(stack: Stack, secret: secretsmanager.Secret) {
  const ref = { Ref: stack.getLogicalId(secret.node.defaultChild as secretsmanager.CfnSecret) };
  return { ref, statement: { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: ref } };
}

function logsDomain(stack: Stack): opensearch.IDomain {
  return opensearch.Domain.fromDomainAttributes(stack, 'Domain', {
    domainArn: 'arn:aws:es:eu-west-1:111122223333:domain/logs',
    domainEndpoint: 'https://search-logs-abc123.eu-west-1.es.amazonaws.com',
  });
}

describe('TelemetryDestination', () => {
  it('prometheus: remote write URL of the workspace and aps:RemoteWrite on that workspace only', () => {
    const { stack } = newStack();
    const workspace = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const { env, statements } = observeWith(stack, TelemetryDestination.prometheus(workspace));
    const workspaceId = stack.getLogicalId(workspace.cfnWorkspace);
    expect(env.OBSERVED_REMOTE_WRITE_URL).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [workspaceId, 'PrometheusEndpoint'] }, 'api/v1/remote_write']],
    });
    expect(statements).toEqual([
      { Action: 'aps:RemoteWrite', Effect: 'Allow', Resource: { 'Fn::GetAtt': [workspaceId, 'Arn'] } },
    ]);
  });

  it('otlp: endpoint, the headers secret ARN, and read access to that secret only', () => {
    const { stack } = newStack();
    const secret = new secretsmanager.Secret(stack, 'Headers');
    const { env, statements } = observeWith(
      stack,
      TelemetryDestination.otlp({ endpoint: 'https://otlp.example.com:4318', headersSecret: secret }),
    );
    const read = secretRead(stack, secret);
    expect(env.OBSERVED_OTLP_ENDPOINT).toBe('https://otlp.example.com:4318');
    expect(env.OBSERVED_OTLP_HEADERS_SECRET_ARN).toEqual(read.ref);
    // Only the read the extension makes.
    expect(statements).toEqual([read.statement]);
  });

  it('pushgateway: the URL and no IAM', () => {
    const { stack } = newStack();
    const { env, statements } = observeWith(
      stack,
      TelemetryDestination.pushgateway({ url: 'http://pushgateway.internal:9091' }),
    );
    expect(env.OBSERVED_PUSHGATEWAY_URL).toBe('http://pushgateway.internal:9091');
    expect(statements).toEqual([]);
  });

  it('openSearch with a domain: its endpoint and POST on its _bulk path only', () => {
    const { stack } = newStack();
    const { env, statements } = observeWith(
      stack,
      TelemetryDestination.openSearch({ domain: logsDomain(stack), tracesIndex: 'otel-traces-%{yyyy.MM.dd}' }),
    );
    expect(env.OBSERVED_OPENSEARCH_ENDPOINT).toBe('https://search-logs-abc123.eu-west-1.es.amazonaws.com');
    expect(env.OBSERVED_OPENSEARCH_TRACES_INDEX).toBe('otel-traces-%{yyyy.MM.dd}');
    expect(statements).toEqual([
      {
        Action: 'es:ESHttpPost',
        Effect: 'Allow',
        Resource: 'arn:aws:es:eu-west-1:111122223333:domain/logs/_bulk',
      },
    ]);
  });

  it('openSearch with a domain and basic auth: read access to the credentials and no OpenSearch action, as the extension signs nothing', () => {
    const { stack } = newStack();
    const masterUser = new secretsmanager.Secret(stack, 'MasterUser');
    const { env, statements } = observeWith(
      stack,
      TelemetryDestination.openSearch({ domain: logsDomain(stack), basicAuth: StoredSecret.fromSecret(masterUser) }),
    );
    const read = secretRead(stack, masterUser);
    expect(env.OBSERVED_OPENSEARCH_ENDPOINT).toBe('https://search-logs-abc123.eu-west-1.es.amazonaws.com');
    expect(env.OBSERVED_OPENSEARCH_BASIC_AUTH_SECRET_ARN).toEqual(read.ref);
    expect(statements).toEqual([read.statement]);
  });

  it('openSearch with a Serverless collection: its endpoint, SigV4 for aoss, and aoss:APIAccessAll on that collection only', () => {
    const { stack } = newStack();
    const collection = new aoss.CfnCollection(stack, 'Logs', { name: 'lambda-logs', type: 'TIMESERIES' });
    const { env, statements } = observeWith(stack, TelemetryDestination.openSearch({ collection }));
    const collectionId = stack.getLogicalId(collection);
    expect(env.OBSERVED_OPENSEARCH_ENDPOINT).toEqual({
      'Fn::Join': ['', ['https://', { Ref: collectionId }, '.eu-west-1.aoss.', { Ref: 'AWS::URLSuffix' }]],
    });
    expect(env.OBSERVED_OPENSEARCH_SIGV4_SERVICE).toBe('aoss');
    expect(statements).toEqual([
      { Action: 'aoss:APIAccessAll', Effect: 'Allow', Resource: { 'Fn::GetAtt': [collectionId, 'Arn'] } },
    ]);
  });

  it('several destinations at once, with the flush strategy and log level', () => {
    const { stack } = newStack();
    const workspace = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const fn = inlineFunction(stack, 'Fn');
    ObserveFunctions.observe(fn, {
      destinations: [
        TelemetryDestination.prometheus(workspace),
        TelemetryDestination.otlp({ endpoint: 'https://otlp.example.com' }),
        TelemetryDestination.openSearch({ endpoint: 'https://logs.example.com' }),
      ],
      flush: FlushStrategy.periodic(Duration.seconds(30)),
      logLevel: ExtensionLogLevel.DEBUG,
    });
    const env = environmentOf(Template.fromStack(stack));
    expect(Object.keys(env).sort()).toEqual([
      'AWS_LAMBDA_EXEC_WRAPPER',
      'OBSERVED_FLUSH',
      'OBSERVED_LOG_LEVEL',
      'OBSERVED_OPENSEARCH_ENDPOINT',
      'OBSERVED_OTLP_ENDPOINT',
      'OBSERVED_REMOTE_WRITE_URL',
    ]);
    expect(env.OBSERVED_FLUSH).toBe('periodic:30000');
    expect(env.OBSERVED_LOG_LEVEL).toBe('debug');
  });

  it('refuses destinations without their required fields, with a message that says what to give', () => {
    expect(() => TelemetryDestination.otlp({} as never)).toThrow(
      'TelemetryDestination.otlp: `endpoint` is required (the base URL of an OTLP/HTTP endpoint, e.g. https://otlp.example.com:4318)',
    );
    expect(() => TelemetryDestination.otlp({ endpoint: 'otlp.example.com' })).toThrow(
      'TelemetryDestination.otlp: `endpoint` must be an http(s) URL',
    );
    expect(() => TelemetryDestination.pushgateway({} as never)).toThrow(
      'TelemetryDestination.pushgateway: `url` is required',
    );
    expect(() => TelemetryDestination.openSearch({})).toThrow(
      'TelemetryDestination.openSearch: give exactly one of `domain` (an OpenSearch Service domain), `collection` (an OpenSearch Serverless collection) or `endpoint` (a base URL)',
    );
    expect(() =>
      TelemetryDestination.openSearch({
        domain: {} as opensearch.IDomain,
        endpoint: 'https://logs.example.com',
      }),
    ).toThrow('TelemetryDestination.openSearch: give exactly one of');
    const { stack } = newStack();
    expect(() =>
      TelemetryDestination.openSearch({
        collection: new aoss.CfnCollection(stack, 'Logs', { name: 'lambda-logs', type: 'TIMESERIES' }),
        basicAuth: StoredSecret.fromSecret(new secretsmanager.Secret(stack, 'User')),
      }),
    ).toThrow(
      "TelemetryDestination.openSearch: OpenSearch Serverless takes only SigV4-signed requests, not basic auth: drop `basicAuth` and name the function's role in the collection's data access policy",
    );
    expect(() => TelemetryDestination.prometheus(undefined as never)).toThrow(
      'TelemetryDestination.prometheus: a workspace is required',
    );
    expect(() => FlushStrategy.periodic(Duration.millis(5))).toThrow(
      'FlushStrategy.periodic: the interval must be a whole number of milliseconds from 10 ms to 1 hour; got 5 ms',
    );
  });

  it('refuses no destination and two of a kind', () => {
    const { stack } = newStack();
    const fn = inlineFunction(stack, 'Fn');
    expect(() => ObserveFunctions.observe(fn, { destinations: [] })).toThrow(
      'observe: telemetry.destinations needs at least one destination',
    );
    const twice = [
      TelemetryDestination.otlp({ endpoint: 'https://a.example.com' }),
      TelemetryDestination.otlp({ endpoint: 'https://b.example.com' }),
    ];
    expect(() => new ObserveFunctions({ destinations: twice })).toThrow(
      'ObserveFunctions: telemetry.destinations has two otlp destinations; the extension sends to one of each kind',
    );
  });
});
