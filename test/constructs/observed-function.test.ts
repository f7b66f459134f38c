import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTRUMENTATION } from '../../lib/function-entry.js';
import { ObservedFunction, PrometheusWorkspace, TelemetryDestination } from '../../lib/index.js';
import { OtlpSink } from '../support/otlp-sink.js';
import { ENV, newStack, roleStatements } from './helpers.js';

const run = promisify(execFile);
const fixtures = join(__dirname, 'fixtures');
const root = join(__dirname, '..', '..');
const instrumentationPresent = [INSTRUMENTATION.bundled, INSTRUMENTATION.source].some((p) => existsSync(join(root, p)));
if (!instrumentationPresent)
  console.warn('SKIPPING ObservedFunction bundling tests: instrumentation-src is not in this checkout');
const telemetry = { destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })] };

describe('ObservedFunction validation', () => {
  it('refuses runtimes it cannot observe, naming the runtime and what to use', () => {
    const { stack } = newStack();
    const entry = join(fixtures, 'esm-handler.mjs');
    expect(() => new ObservedFunction(stack, 'Py', { entry, runtime: lambda.Runtime.PYTHON_3_13, telemetry })).toThrow(
      'ObservedFunction cannot observe this function: its runtime python3.13 is not Node.js; observed-lambda instruments Node.js 20 or newer (nodejs20.x and later)',
    );
    expect(() => new ObservedFunction(stack, 'Old', { entry, runtime: lambda.Runtime.NODEJS_18_X, telemetry })).toThrow(
      'ObservedFunction cannot observe this function: its runtime nodejs18.x is older than nodejs20.x; use lambda.Runtime.NODEJS_22_X or newer',
    );
  });

  it('needs an entry file, no prebuilt code, a handler name and a destination', () => {
    const { stack } = newStack();
    const entry = join(fixtures, 'esm-handler.mjs');
    expect(() => new ObservedFunction(stack, 'A', { telemetry })).toThrow(
      "ObservedFunction: `entry` is required (the file that exports the handler, e.g. 'src/api.ts')",
    );
    expect(() => new ObservedFunction(stack, 'B', { entry: join(fixtures, 'missing.ts'), telemetry })).toThrow(
      `ObservedFunction: the entry file ${join(fixtures, 'missing.ts')} does not exist`,
    );
    expect(() => new ObservedFunction(stack, 'C', { entry, code: lambda.Code.fromInline('x'), telemetry })).toThrow(
      'ObservedFunction bundles the handler itself: give `entry` (the handler file) instead of `code`',
    );
    expect(() => new ObservedFunction(stack, 'D', { entry, handler: 'index.handler', telemetry })).toThrow(
      'ObservedFunction: `handler` is the name of the exported handler function',
    );
    expect(() => new ObservedFunction(stack, 'E', { entry, telemetry: { destinations: [] } })).toThrow(
      'ObservedFunction: telemetry.destinations needs at least one destination',
    );
  });
});

describe.skipIf(!instrumentationPresent)('ObservedFunction bundles', () => {
  const sink = new OtlpSink();
  let app: App;
  let stack: Stack;
  let esm: ObservedFunction;
  let cjs: ObservedFunction;
  let cjsOn24: ObservedFunction;
  let workspace: PrometheusWorkspace;

  beforeAll(async () => {
    await sink.start();
    ({ app, stack } = newStack());
    workspace = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    esm = new ObservedFunction(stack, 'Esm', {
      entry: join(fixtures, 'esm-handler.mjs'),
      telemetry: { destinations: [TelemetryDestination.prometheus(workspace)] },
    });
    cjs = new ObservedFunction(stack, 'Cjs', {
      entry: join(fixtures, 'cjs-callback-handler.cjs'),
      handler: 'process',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      telemetry,
    });
    cjsOn24 = new ObservedFunction(stack, 'Cjs24', {
      entry: join(fixtures, 'cjs-callback-handler.cjs'),
      handler: 'process',
      telemetry,
    });
    app.synth();
  });

  afterAll(async () => {
    await sink.stop();
  });

  function assetDir(fn: ObservedFunction): string {
    const props =
      Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)]
        .Properties;
    return join(app.outdir, `asset.${String(props.Code.S3Key).replace(/\.zip$/, '')}`);
  }

  it('defaults to a current Node.js runtime and adds the layer, the environment and exactly the IAM of its destinations', () => {
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Layers: [{ Ref: Match.stringLikeRegexp('^ObservedLambdaTelemetryExtensionLayer') }],
      Environment: {
        Variables: { OBSERVED_REMOTE_WRITE_URL: Match.anyValue(), AWS_LAMBDA_EXEC_WRAPPER: Match.absent() },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Environment: { Variables: { OBSERVED_PUSHGATEWAY_URL: 'http://pushgateway:9091' } },
    });
    expect(roleStatements(template, stack, esm)).toEqual([
      {
        Action: 'aps:RemoteWrite',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(workspace.cfnWorkspace), 'Arn'] },
      },
    ]);
    expect(roleStatements(template, stack, cjs)).toEqual([]);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
  });

  it('bundles the same asset on every synth', () => {
    const other = new App({ outdir: `${app.outdir}-again` });
    const again = new Stack(other, 'Test', { env: ENV });
    new ObservedFunction(again, 'Esm', { entry: join(fixtures, 'esm-handler.mjs'), telemetry });
    const key = (s: Stack) =>
      Object.values(Template.fromStack(s).findResources('AWS::Lambda::Function'))[0].Properties.Code.S3Key;
    expect(key(again)).toBe(key(stack));
  });

  for (const [name, file, kind, arity] of [
    ['an ES module handler (async, nodejs24.x)', 'index.mjs', 'esm', 2],
    ['a CommonJS handler (callback style, nodejs22.x)', 'index.js', 'cjs-callback', 3],
    ['a CommonJS callback handler made async for nodejs24.x', 'index.js', 'cjs-callback', 2],
  ] as const) {
    it(`runs ${name} after the SDK started, and flushes its spans before returning`, async () => {
      const fn = kind === 'esm' ? esm : arity === 3 ? cjs : cjsOn24;
      const exportName = 'handler';
      const before = sink.spans().length;
      const { stdout } = await run(
        process.execPath,
        [join(fixtures, 'invoke-bundle.cjs'), join(assetDir(fn), file), exportName, JSON.stringify({ value: 42 })],
        {
          timeout: 30_000,
          env: {
            PATH: process.env.PATH,
            AWS_LAMBDA_FUNCTION_NAME: `observed-${kind}`,
            AWS_REGION: 'eu-west-1',
            OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          },
        },
      );
      const { result, arity: exportedArity } = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(result).toEqual({ kind, sdkReadyAtLoad: true, echo: 42 });
      expect(exportedArity).toBe(arity);
      const spans = sink.spans().slice(before);
      expect(spans.length).toBeGreaterThan(0);
    });
  }

  it('rejects with the error a callback handler made async passes to its callback', async () => {
    const failed = run(
      process.execPath,
      [
        join(fixtures, 'invoke-bundle.cjs'),
        join(assetDir(cjsOn24), 'index.js'),
        'handler',
        JSON.stringify({ value: 7, fail: true }),
      ],
      {
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          AWS_LAMBDA_FUNCTION_NAME: 'observed-cjs',
          AWS_REGION: 'eu-west-1',
          OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        },
      },
    );
    await expect(failed).rejects.toMatchObject({ stderr: expect.stringContaining('Error: refused 7') });
  });
});
