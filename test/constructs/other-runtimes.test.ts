/**
 * Functions of runtimes without Node.js (Python, Java, .NET, Ruby, provided.al2023): ObserveFunctions,
 * observe() and TelemetryExtension give them the layer that brings its own engine, and the environment
 * their own OpenTelemetry SDK reads, without the Node.js exec wrapper.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ObserveFunctions, observe, TelemetryDestination, TelemetryExtension } from '../../lib/index.js';
import { layerArchitectures, packagedPortableLayer, requiredGlibcMinor } from '../../lib/package-paths.js';
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

  it('the layer lists the runtimes it serves, and the architecture of its engine', () => {
    const { stack } = newStack();
    const extension = TelemetryExtension.of(stack);
    inlineFunction(stack, 'Py', lambda.Runtime.PYTHON_3_12).addLayers(extension.layerFor(lambda.Runtime.PYTHON_3_12));
    const layers = Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion', {
      Properties: { CompatibleRuntimes: Match.arrayWith(['python3.12']) },
    });
    const [layer] = Object.values(layers);
    // The runtimes on Amazon Linux 2023, whose glibc its engine is built for.
    expect(layer.Properties.CompatibleRuntimes).toEqual([
      'python3.14',
      'python3.13',
      'python3.12',
      'java25',
      'java21',
      'dotnet10',
      'dotnet8',
      'ruby4.0',
      'ruby3.4',
      'ruby3.3',
      'provided.al2023',
    ]);
    // The engine in dist/layer-portable is built for this machine's architecture.
    expect(layer.Properties.CompatibleArchitectures).toEqual([process.arch === 'arm64' ? 'arm64' : 'x86_64']);
  });

  it('gives runtimes Lambda adds later the same layer version, and refuses Amazon Linux 2 and retired runtimes and container images', () => {
    const { stack } = newStack();
    const extension = TelemetryExtension.of(stack);
    const python315 = new lambda.Runtime('python3.15', lambda.RuntimeFamily.PYTHON);
    const later = inlineFunction(stack, 'Later', python315);
    expect(observe(later, { destinations })).toBe(true);
    expect(functionProperties(stack, later).Layers).toEqual([portableLayerRef]);
    expect(() => extension.layerFor(lambda.Runtime.JAVA_17)).toThrow(
      'TelemetryExtension.layerFor: its runtime java17 runs on Amazon Linux 2, whose glibc (2.26) is older than the engine of observed-lambda',
    );
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

describe('the engine of the layer for runtimes without Node.js', () => {
  it('reads the newest glibc version native executables ask for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'observed-glibc-'));
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf.writeUInt16LE(0x3e, 18);
    writeFileSync(join(dir, 'engine'), Buffer.concat([elf, Buffer.from('\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0')]));
    writeFileSync(join(dir, 'bundle.js'), 'GLIBC_2.99 in a text file is not a requirement');
    expect(requiredGlibcMinor(dir)).toBe(34);
    expect(layerArchitectures(dir)).toEqual(['x86_64']);
    rmSync(dir, { recursive: true });
  });

  it('warns at synth when the engine needs a newer glibc than Amazon Linux 2023 has', () => {
    const { stack } = newStack();
    TelemetryExtension.of(stack).layerFor(lambda.Runtime.PYTHON_3_13);
    const warned = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('needs glibc 2\\.')).length > 0;
    expect(warned).toBe((requiredGlibcMinor(packagedPortableLayer()) ?? 0) > 34);
  });
});
