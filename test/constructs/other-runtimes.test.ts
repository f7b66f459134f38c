/**
 * Functions of runtimes without Node.js (Python, Java, .NET, Ruby, provided.al2023): ObserveFunctions,
 * observe() and TelemetryExtension give them the layer that brings its own engine, and the environment
 * their own OpenTelemetry SDK reads, without the Node.js exec wrapper.
 */

import { join } from 'node:path';
import { Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ObserveFunctions, observe, TelemetryDestination, TelemetryExtension } from '../../lib/index.js';
import { newStack } from './helpers.js';

/** A function of `runtime` (its code is never run here; most runtimes take no inline code). */
function inlineFunction(scope: Construct, id: string, runtime: lambda.Runtime): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime,
    handler: 'app.handler',
    code: lambda.Code.fromAsset(join(__dirname, '..', 'runtimes', 'fixtures', 'python-basic')),
  });
}

const destinations = [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })];
const OTLP = {
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
};
const FLUSH_TIMEOUT = { OTEL_INSTRUMENTATION_AWS_LAMBDA_FLUSH_TIMEOUT: '5000' };

const RUNTIMES: { runtime: lambda.Runtime; environment: Record<string, string> }[] = [
  { runtime: lambda.Runtime.PYTHON_3_13, environment: { ...OTLP, ...FLUSH_TIMEOUT } },
  { runtime: lambda.Runtime.JAVA_21, environment: { ...OTLP, ...FLUSH_TIMEOUT } },
  { runtime: lambda.Runtime.DOTNET_8, environment: OTLP },
  { runtime: lambda.Runtime.RUBY_3_4, environment: OTLP },
  { runtime: lambda.Runtime.PROVIDED_AL2023, environment: OTLP },
];

function functionProperties(stack: ReturnType<typeof newStack>['stack'], fn: lambda.Function) {
  const id = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return Template.fromStack(stack).toJSON().Resources[id].Properties as {
    Layers?: unknown[];
    Environment?: { Variables: Record<string, unknown> };
  };
}

const portableLayerRef = { Ref: expect.stringMatching(/^ObservedLambdaTelemetryExtensionPortableLayer/) };

describe('functions of runtimes without Node.js', () => {
  for (const { runtime, environment } of RUNTIMES) {
    it(`observe() gives a ${runtime.name} function the layer with its own engine and its SDK's OTLP settings`, () => {
      const { stack } = newStack();
      const fn = inlineFunction(stack, 'Fn', runtime);
      expect(observe(fn, { destinations })).toBe(true);
      const props = functionProperties(stack, fn);
      expect(props.Layers).toEqual([expect.objectContaining({ Ref: expect.stringMatching(/PortableLayer/) })]);
      expect(props.Environment?.Variables).toEqual({
        ...environment,
        OBSERVED_PUSHGATEWAY_URL: 'http://pushgateway:9091',
      });
      const template = Template.fromStack(stack);
      // The Node.js layer is always part of the extension; this function gets the other one.
      template.resourceCountIs('AWS::Lambda::LayerVersion', 2);
      template.hasResourceProperties('AWS::Lambda::LayerVersion', {
        CompatibleRuntimes: Match.arrayWith([runtime.name]),
      });
    });
  }

  it('the layer lists the 15 runtimes Lambda allows, of every language it serves, and the architecture of its engine', () => {
    const { stack } = newStack();
    const extension = TelemetryExtension.of(stack);
    inlineFunction(stack, 'Py', lambda.Runtime.PYTHON_3_12).addLayers(extension.layerFor(lambda.Runtime.PYTHON_3_12));
    const layers = Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion', {
      Properties: { CompatibleRuntimes: Match.arrayWith(['python3.12']) },
    });
    const [layer] = Object.values(layers);
    expect(layer.Properties.CompatibleRuntimes).toEqual([
      'python3.14',
      'python3.13',
      'python3.12',
      'python3.11',
      'java25',
      'java21',
      'java17',
      'java11',
      'dotnet10',
      'dotnet8',
      'ruby4.0',
      'ruby3.4',
      'ruby3.3',
      'provided.al2023',
      'provided.al2',
    ]);
    // The engine in dist/layer-portable is built for this machine's architecture.
    expect(layer.Properties.CompatibleArchitectures).toEqual([process.arch === 'arm64' ? 'arm64' : 'x86_64']);
  });

  it('gives current runtimes beyond the list the same layer version, and refuses retired ones and container images', () => {
    const { stack } = newStack();
    const extension = TelemetryExtension.of(stack);
    const java8 = inlineFunction(stack, 'Java8', lambda.Runtime.JAVA_8_CORRETTO);
    expect(observe(java8, { destinations })).toBe(true);
    expect(functionProperties(stack, java8).Layers).toEqual([portableLayerRef]);
    expect(() => extension.layerFor(lambda.Runtime.PYTHON_3_8)).toThrow(
      'TelemetryExtension.layerFor: its runtime python3.8 is retired by Lambda; move to a current one',
    );
    expect(() => extension.layerFor(lambda.Runtime.NODEJS_18_X)).toThrow(/older than nodejs20.x/);
    const image = new lambda.DockerImageFunction(stack, 'Image', {
      code: lambda.DockerImageCode.fromEcr(ecr.Repository.fromRepositoryName(stack, 'Repo', 'orders')),
    });
    expect(observe(image, { destinations })).toBe(false);
    expect(
      Annotations.fromStack(stack).findWarning(
        '/Test/Image',
        Match.stringLikeRegexp('container images carry their own extensions'),
      ),
    ).toHaveLength(1);
  });

  it('ObserveFunctions observes Node.js and Python functions side by side, each with its layer, and keeps settings the function has', () => {
    const { app, stack } = newStack();
    const node = inlineFunction(stack, 'Node', lambda.Runtime.NODEJS_24_X);
    const python = inlineFunction(stack, 'Python', lambda.Runtime.PYTHON_3_13);
    python.addEnvironment('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/json');
    const retired = inlineFunction(stack, 'Old', lambda.Runtime.PYTHON_3_9);
    Aspects.of(app).add(new ObserveFunctions({ destinations }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 2);
    expect(functionProperties(stack, node).Layers).toEqual([
      { Ref: expect.stringMatching(/^ObservedLambdaTelemetryExtensionLayer/) },
    ]);
    expect(functionProperties(stack, node).Environment?.Variables.AWS_LAMBDA_EXEC_WRAPPER).toBe(
      '/opt/observed-instrument',
    );
    const py = functionProperties(stack, python);
    expect(py.Layers).toEqual([{ Ref: expect.stringMatching(/^ObservedLambdaTelemetryExtensionPortableLayer/) }]);
    expect(py.Environment?.Variables).toMatchObject({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(py.Environment?.Variables.AWS_LAMBDA_EXEC_WRAPPER).toBeUndefined();
    expect(functionProperties(stack, retired).Layers).toBeUndefined();
    const warnings = Annotations.fromStack(stack).findWarning(
      '/Test/Old',
      Match.stringLikeRegexp('python3.9 is retired'),
    );
    expect(warnings).toHaveLength(1);
  });
});
