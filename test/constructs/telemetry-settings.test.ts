/**
 * Every extension setting a user chooses is a typed option: the environment
 * the constructs write from them is what the extension's own loader reads
 * back, and a value the extension would refuse fails the synth, naming the
 * option, the function and what is accepted.
 */
import { Duration, Size, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../extension-src/config/index.js';
import {
  Compression,
  ObserveFunctions,
  OtlpProtocol,
  PrometheusWorkspace,
  TelemetryDestination,
  type TelemetryOptions,
  TelemetryStream,
} from '../../lib/index.js';
import { inlineFunction, newStack } from './helpers.js';

const WORKSPACE_ENDPOINT =
  'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-12345678-abcd-1234-abcd-123456789012/';

function workspace(stack: Stack) {
  return PrometheusWorkspace.fromWorkspaceAttributes(stack, 'Prom', {
    workspaceId: 'ws-12345678-abcd-1234-abcd-123456789012',
    prometheusEndpoint: WORKSPACE_ENDPOINT,
  });
}

function environmentFor(build: (stack: Stack) => TelemetryOptions): Record<string, string> {
  const { stack } = newStack();
  ObserveFunctions.observe(inlineFunction(stack, 'Fn'), build(stack));
  const props = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0].Properties;
  return props.Environment.Variables as Record<string, string>;
}

function synthError(build: (stack: Stack) => TelemetryOptions): string {
  const { stack } = newStack();
  try {
    ObserveFunctions.observe(inlineFunction(stack, 'Fn'), build(stack));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the options to be refused');
}

const series = {
  externalLabels: { cluster: 'prod', __replica__: 'a', team: 'pay,ments=1' },
  resourceLabels: ['faas.name', 'cloud.region'],
  scopeLabels: false,
  targetInfo: false,
  maxLabelValueLength: 512,
  maxLabels: 40,
};

describe('typed extension settings', () => {
  it('every option reaches the extension as the value chosen', () => {
    const env = environmentFor((stack) => ({
      destinations: [
        TelemetryDestination.prometheus(workspace(stack), {
          ...series,
          nativeHistograms: true,
          maxSamplesPerRequest: 500,
          maxRequestSize: Size.kibibytes(512),
          queueSamples: 20_000,
          queueSize: Size.mebibytes(8),
          staleSeries: 5_000,
          timeout: Duration.seconds(3),
        }),
        TelemetryDestination.otlp({
          endpoint: 'https://otlp.example.com:4318',
          protocol: OtlpProtocol.HTTP_JSON,
          compression: Compression.GZIP,
          timeout: Duration.seconds(7),
          maxRequestSize: Size.mebibytes(2),
        }),
        TelemetryDestination.pushgateway({
          ...series,
          url: 'http://pushgateway:9091',
          deleteOnShutdown: true,
          timeout: Duration.millis(1500),
          maxSeries: 3_000,
        }),
        TelemetryDestination.openSearch({
          endpoint: 'https://logs.example.com',
          compression: Compression.GZIP,
          maxBulkSize: Size.mebibytes(1),
          queueDocuments: 2_000,
          timeout: Duration.seconds(4),
        }),
      ],
      flushMaxAge: Duration.seconds(2),
      flushTimeout: Duration.millis(800),
      bufferLimits: { maxSize: Size.mebibytes(2), maxItems: 5_000 },
      telemetryApi: {
        streams: [TelemetryStream.PLATFORM, TelemetryStream.FUNCTION],
        maxItems: 2_000,
        maxSize: Size.kibibytes(512),
        timeout: Duration.millis(100),
      },
      receiver: { port: 4320, grpcPort: 4321, maxBodySize: Size.mebibytes(8), maxDecompressedSize: Size.mebibytes(32) },
      selfMetrics: false,
    }));
    const { config, warnings } = loadConfig(env);
    expect(warnings).toEqual([]);
    expect(config.flush).toEqual({ strategy: { kind: 'adaptive' }, maxAgeMs: 2000, timeoutMs: 800 });
    expect(config.buffer).toEqual({ maxBytes: 2 * 1024 * 1024, maxItems: 5000 });
    expect(config.telemetry).toEqual({
      types: ['platform', 'function'],
      buffering: { maxItems: 2000, maxBytes: 512 * 1024, timeoutMs: 100 },
    });
    expect(config.receiver).toEqual({
      port: 4320,
      grpcPort: 4321,
      maxBodyBytes: 8 * 1024 * 1024,
      maxDecompressedBytes: 32 * 1024 * 1024,
    });
    expect(config.selfMetrics).toBe(false);
    const translate = {
      externalLabels: [
        { name: '__replica__', value: 'a' },
        { name: 'cluster', value: 'prod' },
        { name: 'team', value: 'pay,ments=1' },
      ],
      promotedResourceAttributes: ['faas.name', 'cloud.region'],
      scopeLabels: false,
      targetInfo: false,
      maxLabelValueBytes: 512,
      maxLabelsPerSeries: 40,
    };
    expect(config.remoteWrite).toMatchObject({
      maxSamples: 500,
      maxBytes: 512 * 1024,
      maxQueuedSamples: 20_000,
      maxQueuedBytes: 8 * 1024 * 1024,
      maxStaleSeries: 5_000,
      timeoutMs: 3000,
      translate: { ...translate, nativeHistograms: true },
    });
    expect(config.otlp).toMatchObject({
      protocol: 'http/json',
      compression: 'gzip',
      timeoutMs: 7000,
      maxRequestBytes: 2 * 1024 * 1024,
    });
    expect(config.pushgateway).toMatchObject({ deleteOnShutdown: true, timeoutMs: 1500, maxSeries: 3000, translate });
    expect(config.openSearch).toMatchObject({
      gzip: true,
      maxBytes: 1024 * 1024,
      maxQueuedDocuments: 2000,
      timeoutMs: 4000,
    });
  });

  it('an empty stream list subscribes to none', () => {
    const env = environmentFor(() => ({
      destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })],
      telemetryApi: { streams: [] },
    }));
    expect(env.OBSERVED_TELEMETRY_TYPES).toBe('none');
    expect(loadConfig(env).config.telemetry.types).toEqual([]);
  });

  it('options left out write nothing, so the extension keeps its defaults', () => {
    const env = environmentFor(() => ({
      destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })],
    }));
    expect(Object.keys(env).sort()).toEqual(['AWS_LAMBDA_EXEC_WRAPPER', 'OBSERVED_PUSHGATEWAY_URL']);
  });

  it('a value the extension would refuse fails the synth with the option, the function and what is accepted', () => {
    const pushgateway = TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091', maxLabels: 2 });
    expect(synthError(() => ({ destinations: [pushgateway], bufferLimits: { maxItems: 5 } }))).toBe(
      [
        'ObserveFunctions: the extension would not accept these settings:',
        '  telemetry.bufferLimits.maxItems: OBSERVED_BUFFER_MAX_ITEMS=5 is not valid; accepted values: an integer from 100 to 10000000 (using 20000)',
        '  TelemetryDestination.pushgateway({ ... }).maxLabels: OBSERVED_PROMETHEUS_MAX_LABELS=2 is not valid; accepted values: an integer from 4 to 10000 (using 70) (at Test/Fn)',
      ].join('\n'),
    );
    expect(
      synthError(() => ({
        destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })],
        telemetryApi: { timeout: Duration.millis(5) },
      })),
    ).toContain(
      'telemetry.telemetryApi.timeout: OBSERVED_TELEMETRY_TIMEOUT_MS=5 is not valid; accepted values: an integer from 25 to 30000',
    );
    expect(
      synthError(() => ({
        destinations: [
          TelemetryDestination.openSearch({ endpoint: 'https://logs.example.com', logsIndex: 'Logs Today' }),
        ],
      })),
    ).toContain(
      'TelemetryDestination.openSearch({ ... }).logsIndex: OBSERVED_OPENSEARCH_INDEX=Logs Today is not a valid index name',
    );
  });

  it('a refused function is left as it was: no layer, no extension environment', () => {
    const { stack } = newStack();
    const fn = inlineFunction(stack, 'Fn');
    expect(() =>
      ObserveFunctions.observe(fn, {
        destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091', maxLabels: 2 })],
      }),
    ).toThrow('OBSERVED_PROMETHEUS_MAX_LABELS=2 is not valid');
    const props = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0].Properties;
    expect(props.Layers).toBeUndefined();
    expect(props.Environment).toBeUndefined();
  });

  it('remote write and Pushgateway share the series settings: different values on the two are refused', () => {
    expect(
      synthError((stack) => ({
        destinations: [
          TelemetryDestination.prometheus(workspace(stack), { externalLabels: { cluster: 'a' } }),
          TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091', externalLabels: { cluster: 'b' } }),
        ],
      })),
    ).toBe(
      'ObserveFunctions: TelemetryDestination.prometheus(workspace, { ... }).externalLabels and TelemetryDestination.pushgateway({ ... }).externalLabels set OBSERVED_PROMETHEUS_EXTERNAL_LABELS to different values; the extension has one, give both the same (at Test/Fn)',
    );
    const env = environmentFor((stack) => ({
      destinations: [
        TelemetryDestination.prometheus(workspace(stack), { externalLabels: { cluster: 'a' } }),
        TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091', externalLabels: { cluster: 'a' } }),
      ],
    }));
    expect(env.OBSERVED_PROMETHEUS_EXTERNAL_LABELS).toBe('cluster=a');
  });
});
