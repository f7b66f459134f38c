import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SampleStack } from '../../examples/sample-app/sample-stack.js';
import { INSTRUMENTATION } from '../../lib/function-entry.js';
import { ENV, normalizedTemplate } from './helpers.js';

const root = join(__dirname, '..', '..');
const instrumentationPresent = [INSTRUMENTATION.bundled, INSTRUMENTATION.source].some((p) => existsSync(join(root, p)));

describe.skipIf(!instrumentationPresent)('sample app', () => {
  const app = new App();
  const stack = new SampleStack(app, 'ObservedLambdaSample', { env: ENV });

  it('passes the cdk-nag AwsSolutions checks', () => {
    const result = new AwsSolutionsChecks(app).validateScope(stack);
    expect(result.violations).toEqual([]);
    expect(result.success).toBe(true);
  });

  it('has every part: two observed functions, one layer, AMP with rules, Grafana with its provisioning', () => {
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.resourceCountIs('AWS::APS::Workspace', 1);
    template.resourceCountIs('AWS::APS::RuleGroupsNamespace', 1);
    template.resourceCountIs('AWS::Grafana::Workspace', 1);
    template.resourceCountIs('Custom::ObservedLambdaGrafana', 1);
    template.resourceCountIs('AWS::Lambda::Function', 3);
    expect(stack.functions.map((fn) => fn.runtime.name)).toEqual(['nodejs24.x', 'nodejs24.x']);
  });

  it('matches the committed template snapshot (asset hashes normalised)', () => {
    expect(normalizedTemplate(stack)).toMatchSnapshot();
  });
});
