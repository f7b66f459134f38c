import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../../extension-src/otlp/proto.js';
import { attributeValue, toAttributes } from '../../../extension-src/resource/attributes.js';
import { detectLambdaResource, parseFunctionArn } from '../../../extension-src/resource/detect.js';
import { enrichPayload, enrichResource } from '../../../extension-src/resource/enrich.js';

const LAMBDA_ENV = {
  AWS_LAMBDA_FUNCTION_NAME: 'orders-api',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/23/[$LATEST]2f399eb14537447da05ab2a2e39309de',
  AWS_REGION: 'eu-west-1',
};
const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders-api:live';

describe('Lambda resource detection', () => {
  it('maps the environment and the function ARN to semantic-convention attributes', () => {
    const attrs = detectLambdaResource(LAMBDA_ENV, { functionArn: ARN });
    const get = (k: string) => attributeValue(attrs, k);
    expect(get('cloud.provider')).toBe('aws');
    expect(get('cloud.platform')).toBe('aws_lambda');
    expect(get('cloud.region')).toBe('eu-west-1');
    expect(get('cloud.account.id')).toBe('123456789012');
    expect(get('cloud.resource_id')).toBe('arn:aws:lambda:eu-west-1:123456789012:function:orders-api');
    expect(get('faas.name')).toBe('orders-api');
    expect(get('faas.version')).toBe('$LATEST');
    expect(get('faas.instance')).toBe(LAMBDA_ENV.AWS_LAMBDA_LOG_STREAM_NAME);
    expect(get('faas.max_memory')).toBe(1024 * 1024 * 1024);
    expect(get('service.name')).toBe('orders-api');
    // One id per execution environment (extension process), the same at every call.
    expect(get('service.instance.id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(attributeValue(detectLambdaResource(LAMBDA_ENV), 'service.instance.id')).toBe(get('service.instance.id'));
  });

  it('prefers the register response account id and leaves out what is unknown', () => {
    const attrs = detectLambdaResource({ AWS_LAMBDA_FUNCTION_NAME: 'f' }, { accountId: '210987654321' });
    expect(attributeValue(attrs, 'cloud.account.id')).toBe('210987654321');
    expect(attrs.map((a) => a.key)).not.toContain('faas.max_memory');
    expect(attrs.map((a) => a.key)).not.toContain('cloud.region');
  });

  it("lets the environment win over an ARN of another region or function (RIE's invented us-east-1 ARN)", () => {
    const rieArn = 'arn:aws:lambda:us-east-1:012345678912:function:orders-api';
    const attrs = detectLambdaResource(LAMBDA_ENV, { functionArn: rieArn });
    expect(attributeValue(attrs, 'cloud.region')).toBe('eu-west-1');
    expect(attrs.map((a) => a.key)).not.toContain('cloud.resource_id');
    expect(attrs.map((a) => a.key)).not.toContain('cloud.account.id');
    const otherFunction = detectLambdaResource(LAMBDA_ENV, {
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test_function',
      accountId: '123456789012',
    });
    expect(otherFunction.map((a) => a.key)).not.toContain('cloud.resource_id');
    expect(attributeValue(otherFunction, 'cloud.account.id')).toBe('123456789012');
  });

  it('rejects what is not a Lambda function ARN', () => {
    expect(parseFunctionArn('arn:aws:s3:::bucket')).toBeUndefined();
    expect(parseFunctionArn('arn:aws:lambda:us-east-1:12:function:f')).toBeUndefined();
    expect(parseFunctionArn(ARN)?.qualifier).toBe('live');
  });
});

describe('resource enrichment', () => {
  const detected = toAttributes({
    'service.name': 'orders-api',
    'faas.name': 'orders-api',
    'faas.max_memory': 2 ** 33,
  });

  it('never overrides what the SDK sent, but replaces the unknown_service fallback', () => {
    const mine = enrichResource(
      { attributes: toAttributes({ 'service.name': 'checkout', 'faas.name': 'x' }) },
      detected,
    );
    expect(attributeValue(mine.attributes, 'service.name')).toBe('checkout');
    expect(attributeValue(mine.attributes, 'faas.name')).toBe('x');
    expect(attributeValue(mine.attributes, 'faas.max_memory')).toBe(2 ** 33);
    const fallback = enrichResource({ attributes: toAttributes({ 'service.name': 'unknown_service:node' }) }, detected);
    expect(attributeValue(fallback.attributes, 'service.name')).toBe('orders-api');
    expect(fallback.attributes?.filter((a) => a.key === 'service.name')).toHaveLength(1);
  });

  it('enriches encoded requests of every signal at the protobuf level, like the decoded merge', () => {
    const traces = encodeRequest('traces', {
      resourceSpans: [
        {
          resource: {
            attributes: toAttributes({ 'service.name': 'unknown_service:node', 'deployment.environment': 'prod' }),
          },
          scopeSpans: [{ scope: { name: 's' }, spans: [{ name: 'op', traceId: new Uint8Array(16).fill(1) }] }],
        },
        { scopeSpans: [{ spans: [{ name: 'no-resource' }] }] },
      ],
    });
    const out = decodeRequest('traces', enrichPayload(traces, detected));
    const [first, second] = out.resourceSpans ?? [];
    expect(attributeValue(first.resource?.attributes, 'service.name')).toBe('orders-api');
    expect(attributeValue(first.resource?.attributes, 'deployment.environment')).toBe('prod');
    expect(String(attributeValue(first.resource?.attributes, 'faas.max_memory'))).toBe(String(2 ** 33));
    expect(first.scopeSpans?.[0].spans?.[0].name).toBe('op');
    expect(attributeValue(second.resource?.attributes, 'faas.name')).toBe('orders-api');
    expect(second.scopeSpans?.[0].spans?.[0].name).toBe('no-resource');

    const logs = encodeRequest('logs', {
      resourceLogs: [
        {
          resource: { attributes: toAttributes({ 'faas.name': 'mine' }) },
          scopeLogs: [{ logRecords: [{ severityText: 'INFO' }] }],
        },
      ],
    });
    const enrichedLogs = decodeRequest('logs', enrichPayload(logs, detected));
    expect(attributeValue(enrichedLogs.resourceLogs?.[0].resource?.attributes, 'faas.name')).toBe('mine');
    expect(attributeValue(enrichedLogs.resourceLogs?.[0].resource?.attributes, 'service.name')).toBe('orders-api');
    expect(enrichedLogs.resourceLogs?.[0].scopeLogs?.[0].logRecords?.[0].severityText).toBe('INFO');
  });

  it('returns the same bytes when nothing is missing, and throws on malformed protobuf', () => {
    const full = encodeRequest('metrics', { resourceMetrics: [{ resource: { attributes: detected } }] });
    expect(enrichPayload(full, detected)).toBe(full);
    expect(() => enrichPayload(full.subarray(0, full.length - 3), detected)).toThrow();
  });
});

describe('LambdaResource', () => {
  it('learns the account id and ARN later and enriches payloads with them, leaving garbage as it is', async () => {
    const { LambdaResource } = await import('../../../extension-src/resource/lambda-resource.js');
    const resource = new LambdaResource(LAMBDA_ENV);
    expect(attributeValue(resource.attributes(), 'cloud.account.id')).toBeUndefined();
    resource.noteFunctionArn(ARN);
    resource.noteFunctionArn('arn:aws:lambda:eu-west-1:999999999999:function:other');
    expect(attributeValue(resource.attributes(), 'cloud.account.id')).toBe('123456789012');
    resource.setAccountId('210987654321');
    const bytes = encodeRequest('logs', {
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 'INFO' }] }] }],
    });
    const enriched = decodeRequest('logs', resource.enrich(bytes));
    expect(attributeValue(enriched.resourceLogs?.[0].resource?.attributes, 'cloud.account.id')).toBe('210987654321');
    const garbage = Uint8Array.from([0x0a, 0x7f, 0x01]);
    expect(resource.enrich(garbage)).toBe(garbage);
  });
});
