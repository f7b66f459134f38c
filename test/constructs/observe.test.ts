import { Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ObserveFunctions, observe, StoredSecret, TelemetryDestination } from '../../lib/index.js';
import { ENV, inlineFunction, newStack, roleStatements } from './helpers.js';

const destinations = [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })];

function functionsByPath(
  stack: Stack,
): Record<string, { Layers?: unknown[]; Environment?: { Variables: Record<string, unknown> } }> {
  const out: Record<string, never> = {};
  for (const [id, resource] of Object.entries(Template.fromStack(stack).findResources('AWS::Lambda::Function'))) {
    out[id] = resource.Properties as never;
  }
  return out;
}

describe('ObserveFunctions', () => {
  it('observes every Node.js function in scope, warns about those it cannot observe, and leaves excluded ones alone', () => {
    const { app, stack } = newStack();
    const api = inlineFunction(stack, 'Api');
    const nested = new Construct(stack, 'Team');
    const worker = inlineFunction(nested, 'Worker', lambda.Runtime.NODEJS_24_X);
    const python = inlineFunction(stack, 'Python', lambda.Runtime.PYTHON_3_8);
    const old = inlineFunction(stack, 'Old', lambda.Runtime.NODEJS_18_X);
    const optedOut = new Construct(stack, 'Legacy');
    const legacy = inlineFunction(optedOut, 'Fn');
    ObserveFunctions.exclude(optedOut);
    Aspects.of(app).add(new ObserveFunctions({ destinations }));

    const template = Template.fromStack(stack);
    const fns = functionsByPath(stack);
    const id = (fn: lambda.Function) => stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    const layerRef = { Ref: Match.stringLikeRegexp('^ObservedLambdaTelemetryExtensionLayer') };
    for (const fn of [api, worker]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Layers: [layerRef],
        Environment: {
          Variables: {
            AWS_LAMBDA_EXEC_WRAPPER: '/opt/observed-instrument',
            OBSERVED_PUSHGATEWAY_URL: 'http://pushgateway:9091',
          },
        },
      });
      expect(fns[id(fn)].Layers).toHaveLength(1);
    }
    for (const fn of [python, old, legacy]) {
      expect(fns[id(fn)].Layers).toBeUndefined();
      expect(fns[id(fn)].Environment).toBeUndefined();
    }
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);

    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('observed-lambda cannot observe'),
    );
    expect(warnings.map((w) => w.id).sort()).toEqual(
      ['/Test/Old/Resource', '/Test/Python/Resource'].map((p) => p.replace('/Resource', '')).sort(),
    );
    const python38 = warnings.find((w) => w.id === '/Test/Python')!;
    expect(String(python38.entry.data)).toContain(
      'observed-lambda cannot observe this function: its runtime python3.8 is retired by Lambda; move to a current one',
    );
  });

  it('warns instead of replacing another exec wrapper', () => {
    const { stack } = newStack();
    const fn = inlineFunction(stack, 'Fn');
    fn.addEnvironment('AWS_LAMBDA_EXEC_WRAPPER', '/opt/otel-handler');
    expect(observe(fn, { destinations })).toBe(false);
    const warnings = Annotations.fromStack(stack).findWarning(
      '/Test/Fn',
      Match.stringLikeRegexp('already has AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler'),
    );
    expect(warnings).toHaveLength(1);
    expect(Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion')).toEqual({});
  });

  it('observes a function once, whichever form is used first', () => {
    const app = newStack().app;
    const stack = new Stack(app, 'Twice', { env: ENV });
    const fn = inlineFunction(stack, 'Fn');
    expect(observe(fn, { destinations })).toBe(true);
    expect(observe(fn, { destinations })).toBe(false);
    Aspects.of(stack).add(new ObserveFunctions({ destinations }));
    const props = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0].Properties;
    expect(props.Layers).toHaveLength(1);
  });

  it('leaves a function whose settings are refused unobserved, so corrected settings or an aspect still observe it', () => {
    const { stack } = newStack();
    const fn = inlineFunction(stack, 'Fn');
    const headers = StoredSecret.fromSecret(new secretsmanager.Secret(stack, 'Headers'));
    const refused = {
      destinations: [TelemetryDestination.otlp({ endpoint: 'https://otlp.example.com', headers })],
      bufferLimits: { maxItems: 5 },
    };
    expect(() => observe(fn, refused)).toThrow('telemetry.bufferLimits.maxItems');
    expect(() => observe(fn, refused)).toThrow('telemetry.bufferLimits.maxItems');
    Aspects.of(stack).add(new ObserveFunctions({ destinations }));

    const template = Template.fromStack(stack);
    const props = Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties;
    expect(props.Layers).toHaveLength(1);
    expect(props.Environment.Variables).toMatchObject({ OBSERVED_PUSHGATEWAY_URL: 'http://pushgateway:9091' });
    expect(props.Environment.Variables.OBSERVED_OTLP_ENDPOINT).toBeUndefined();
    // Nothing of the refused settings stays behind: no read access to their secret.
    expect(roleStatements(template, stack, fn)).toEqual([]);
  });
});
