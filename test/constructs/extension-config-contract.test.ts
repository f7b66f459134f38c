/**
 * The environment the constructs write is the extension's configuration: fed
 * to the extension's own loader, it must enable exactly the chosen exporters
 * and raise no warning.
 */
import { Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as aoss from 'aws-cdk-lib/aws-opensearchserverless';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../extension-src/config/index.js';
import {
  ExtensionLogLevel,
  FlushStrategy,
  ObserveFunctions,
  PrometheusWorkspace,
  TelemetryDestination,
  type TelemetryOptions,
} from '../../lib/index.js';
import { inlineFunction, newStack } from './helpers.js';

function environmentFor(build: (stack: Stack) => TelemetryOptions): Record<string, string> {
  const { stack } = newStack();
  const fn = inlineFunction(stack, 'Fn');
  ObserveFunctions.observe(fn, build(stack));
  const props = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0].Properties;
  return props.Environment.Variables as Record<string, string>;
}

/**
 * A value as CloudFormation would deploy it: `Fn::Join` of strings and `Ref`s, each `Ref` replaced by the value
 * given for its logical id's prefix (a construct `Logs` made in the stack has a logical id `Logs<hash>`).
 */
function asDeployed(value: unknown, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref: string }).Ref;
      const match = Object.keys(refs).find((prefix) => ref.startsWith(prefix));
      if (match === undefined) throw new Error(`no deployed value for ${JSON.stringify(part)}`);
      return refs[match];
    })
    .join(separator);
}

describe('construct environment and extension configuration', () => {
  it('every destination at once, with flush strategy and log level: no warning, every exporter on', () => {
    const env = environmentFor((stack) => ({
      destinations: [
        TelemetryDestination.prometheus(
          PrometheusWorkspace.fromWorkspaceAttributes(stack, 'Prom', {
            workspaceId: 'ws-12345678-abcd-1234-abcd-123456789012',
            prometheusEndpoint:
              'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-12345678-abcd-1234-abcd-123456789012/',
          }),
        ),
        TelemetryDestination.otlp({
          endpoint: 'https://otlp.example.com:4318',
          headersSecret: secretsmanager.Secret.fromSecretCompleteArn(
            stack,
            'Headers',
            'arn:aws:secretsmanager:eu-west-1:111122223333:secret:otlp-headers-AbCdEf',
          ),
        }),
        TelemetryDestination.pushgateway({ url: 'http://pushgateway.internal:9091' }),
        TelemetryDestination.openSearch({
          domain: opensearch.Domain.fromDomainAttributes(stack, 'Domain', {
            domainArn: 'arn:aws:es:eu-west-1:111122223333:domain/logs',
            domainEndpoint: 'search-logs-abc123.eu-west-1.es.amazonaws.com',
          }),
          tracesIndex: 'otel-traces-%{yyyy.MM.dd}',
        }),
      ],
      flush: FlushStrategy.periodic(Duration.seconds(5)),
      logLevel: ExtensionLogLevel.WARN,
    }));
    expect(Object.values(env).every((v) => typeof v === 'string')).toBe(true);
    const { config, warnings } = loadConfig(env);
    expect(warnings).toEqual([]);
    expect(config.flush.strategy).toEqual({ kind: 'periodic', intervalMs: 5000 });
    expect(config.logLevel).toBe('warn');
    expect(config.remoteWrite?.url.href).toBe(
      'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-12345678-abcd-1234-abcd-123456789012/api/v1/remote_write',
    );
    expect(config.remoteWrite?.sigv4Region).toBe('eu-west-1');
    expect(config.otlp?.urls.traces?.href).toBe('https://otlp.example.com:4318/v1/traces');
    expect(config.otlp?.headersSecretArn).toBe(
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:otlp-headers-AbCdEf',
    );
    expect(config.pushgateway).toBeDefined();
    expect(config.openSearch).toBeDefined();
  });

  it('an OpenSearch Serverless collection: the extension signs for aoss in the collection region', () => {
    const env = environmentFor((stack) => ({
      destinations: [
        TelemetryDestination.openSearch({
          collection: new aoss.CfnCollection(stack, 'Logs', { name: 'lambda-logs', type: 'TIMESERIES' }),
        }),
      ],
    }));
    const resolved = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [
        name,
        asDeployed(value, { 'AWS::URLSuffix': 'amazonaws.com', Logs: 'abc123xyz' }),
      ]),
    );
    const { config, warnings } = loadConfig({ ...resolved, AWS_REGION: 'eu-west-1' });
    expect(warnings).toEqual([]);
    expect(config.openSearch?.endpoint.href).toBe('https://abc123xyz.eu-west-1.aoss.amazonaws.com/');
    expect(config.openSearch?.auth).toEqual({ kind: 'sigv4', service: 'aoss', region: 'eu-west-1' });
  });

  for (const flush of [
    FlushStrategy.endOfInvocation(),
    FlushStrategy.adaptive(),
    FlushStrategy.periodic(Duration.millis(10)),
    FlushStrategy.periodic(Duration.hours(1)),
  ]) {
    it(`the extension accepts OBSERVED_FLUSH=${flush.value}`, () => {
      const env = environmentFor(() => ({
        destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })],
        flush,
      }));
      const { warnings } = loadConfig(env);
      expect(warnings).toEqual([]);
    });
  }
});
