/**
 * Credentials by reference: every credential-bearing destination setting
 * takes a Secrets Manager secret or an SSM parameter; the function's
 * environment holds only ARNs, which the extension's own loader accepts, and
 * the role may read exactly those values (and decrypt them with their
 * customer managed keys).
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../extension-src/config/index.js';
import { ObserveFunctions, StoredSecret, TelemetryDestination } from '../../lib/index.js';
import { inlineFunction, newStack, roleStatements } from './helpers.js';

const ARN = {
  rwToken: 'arn:aws:ssm:eu-west-1:111122223333:parameter/observed/rw-token',
  rwTenant: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rw-tenant-AbCdEf',
  pushAuth: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:push-auth-AbCdEf',
  searchAuth: 'arn:aws:ssm:eu-west-1:111122223333:parameter/observed/search-auth',
  otlpHeaders: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:otlp-headers-AbCdEf',
  key: 'arn:aws:kms:eu-west-1:111122223333:key/12345678-1234-1234-1234-123456789012',
};

function observeWithSecrets() {
  const { stack } = newStack();
  const key = kms.Key.fromKeyArn(stack, 'Key', ARN.key);
  const secret = (id: string, arn: string, encryptionKey?: kms.IKey) =>
    StoredSecret.fromSecret(
      secretsmanager.Secret.fromSecretAttributes(stack, id, { secretCompleteArn: arn, encryptionKey }),
    );
  const parameter = (id: string, name: string, encryptionKey?: kms.IKey) =>
    StoredSecret.fromParameter(
      ssm.StringParameter.fromSecureStringParameterAttributes(stack, id, { parameterName: name }),
      encryptionKey,
    );
  const fn = inlineFunction(stack, 'Fn');
  ObserveFunctions.observe(fn, {
    destinations: [
      TelemetryDestination.remoteWrite({
        url: 'https://cortex.internal/api/v1/push',
        bearerToken: parameter('RwToken', '/observed/rw-token', key),
        headers: secret('RwTenant', ARN.rwTenant),
      }),
      TelemetryDestination.pushgateway({
        url: 'http://pushgateway:9091',
        basicAuth: secret('PushAuth', ARN.pushAuth, key),
      }),
      TelemetryDestination.openSearch({
        endpoint: 'https://search.internal:9200',
        basicAuth: parameter('SearchAuth', '/observed/search-auth'),
      }),
      TelemetryDestination.otlp({
        endpoint: 'https://otlp.example.com:4318',
        headers: secret('Otlp', ARN.otlpHeaders),
      }),
    ],
  });
  const template = Template.fromStack(stack);
  const props = Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties;
  return { stack, fn, template, env: stack.resolve(props.Environment.Variables) as Record<string, unknown> };
}

/** An SSM parameter ARN as CloudFormation writes it for a stack in eu-west-1 of 111122223333. */
function parameterArn(name: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ssm:eu-west-1:111122223333:parameter${name}`]] };
}

describe('credentials from Secrets Manager and SSM', () => {
  it('puts only ARNs in the environment, one variable per credential', () => {
    const { env } = observeWithSecrets();
    expect(env.OBSERVED_REMOTE_WRITE_BEARER_TOKEN_SECRET_ARN).toEqual(parameterArn('/observed/rw-token'));
    expect(env.OBSERVED_REMOTE_WRITE_HEADERS_SECRET_ARN).toBe(ARN.rwTenant);
    expect(env.OBSERVED_PUSHGATEWAY_BASIC_AUTH_SECRET_ARN).toBe(ARN.pushAuth);
    expect(env.OBSERVED_OPENSEARCH_BASIC_AUTH_SECRET_ARN).toEqual(parameterArn('/observed/search-auth'));
    expect(env.OBSERVED_OTLP_HEADERS_SECRET_ARN).toBe(ARN.otlpHeaders);
    expect(Object.keys(env).filter((name) => /HEADERS$|PASSWORD|USERNAME|TOKEN$/.test(name))).toEqual([]);
  });

  it('lets the role read exactly those values, and decrypt with the customer managed key', () => {
    const { stack, fn, template } = observeWithSecrets();
    const statements = roleStatements(template, stack, fn as lambda.Function);
    expect(statements).toEqual(
      expect.arrayContaining([
        { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: parameterArn('/observed/rw-token') },
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: ARN.rwTenant },
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: ARN.pushAuth },
        { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: parameterArn('/observed/search-auth') },
        { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: ARN.otlpHeaders },
        { Action: 'kms:Decrypt', Effect: 'Allow', Resource: ARN.key },
      ]),
    );
    expect(statements).toHaveLength(6);
  });

  it('the extension reads the same ARNs back, for the destinations they belong to', () => {
    const { env } = observeWithSecrets();
    // CloudFormation fills in the partition of the parameter ARNs at deploy time.
    const deployed = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [
        name,
        typeof value === 'string'
          ? value
          : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
              .map((p) => (typeof p === 'string' ? p : 'aws'))
              .join(''),
      ]),
    );
    const { config, warnings } = loadConfig({ ...deployed, AWS_REGION: 'eu-west-1' });
    expect(warnings).toEqual([]);
    expect(config.remoteWrite?.sigv4Region).toBeUndefined();
    expect(config.remoteWrite?.secrets).toEqual([
      { variable: 'OBSERVED_REMOTE_WRITE_HEADERS_SECRET_ARN', arn: ARN.rwTenant, form: 'headers' },
      { variable: 'OBSERVED_REMOTE_WRITE_BEARER_TOKEN_SECRET_ARN', arn: ARN.rwToken, form: 'bearer-token' },
    ]);
    expect(config.pushgateway?.secrets).toEqual([
      { variable: 'OBSERVED_PUSHGATEWAY_BASIC_AUTH_SECRET_ARN', arn: ARN.pushAuth, form: 'basic-auth' },
    ]);
    expect(config.openSearch?.secrets).toEqual([
      { variable: 'OBSERVED_OPENSEARCH_BASIC_AUTH_SECRET_ARN', arn: ARN.searchAuth, form: 'basic-auth' },
    ]);
    expect(config.openSearch?.auth).toEqual({ kind: 'none' });
    expect(config.otlp?.secrets).toEqual([
      { variable: 'OBSERVED_OTLP_HEADERS_SECRET_ARN', arn: ARN.otlpHeaders, form: 'headers' },
    ]);
  });

  it('refuses both forms of the OTLP headers at once', () => {
    const { stack } = newStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', ARN.otlpHeaders);
    expect(() =>
      TelemetryDestination.otlp({
        endpoint: 'https://otlp.example.com',
        headersSecret: secret,
        headers: StoredSecret.fromSecret(secret),
      }),
    ).toThrow('TelemetryDestination.otlp: give `headers` or the older `headersSecret`, not both');
  });
});
