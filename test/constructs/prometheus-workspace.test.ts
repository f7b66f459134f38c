import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { PrometheusWorkspace } from '../../lib/index.js';
import { lambdaRuleGroups, renderRulesFile } from '../../lib/prometheus-rules.js';
import { requireBinary } from '../support/binaries.js';
import { newStack } from './helpers.js';
import { promtool } from './promtool.js';

const promtoolBinary = requireBinary('promtool');

describe('PrometheusWorkspace', () => {
  it('creates the workspace with alias, KMS key, logging and the Lambda rules', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const workspace = new PrometheusWorkspace(stack, 'Prom', { alias: 'lambda-metrics', kmsKey: key, logging: true });
    const template = Template.fromStack(stack);
    const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::APS::Workspace', {
      Alias: 'lambda-metrics',
      KmsKeyArn: { 'Fn::GetAtt': [keyId, 'Arn'] },
      LoggingConfiguration: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PromLogs'), 'Arn'] } },
      AlertManagerDefinition: Match.absent(),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::APS::RuleGroupsNamespace', {
      Name: 'observed-lambda',
      Workspace: { 'Fn::GetAtt': [stack.getLogicalId(workspace.cfnWorkspace), 'Arn'] },
      Data: renderRulesFile(lambdaRuleGroups()),
    });
  });

  it('has no alias, logging or rules unless asked', () => {
    const { stack } = newStack();
    new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::APS::Workspace', {
      Alias: Match.absent(),
      KmsKeyArn: Match.absent(),
      LoggingConfiguration: Match.absent(),
    });
    template.resourceCountIs('AWS::APS::RuleGroupsNamespace', 0);
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
  });

  it('exposes remote write and query URLs and grants scoped to the workspace ARN', () => {
    const { stack } = newStack();
    const workspace = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    workspace.grantQuery(role);
    workspace.grantRemoteWrite(role);
    const id = stack.getLogicalId(workspace.cfnWorkspace);
    expect(stack.resolve(workspace.remoteWriteUrl)).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'PrometheusEndpoint'] }, 'api/v1/remote_write']],
    });
    expect(stack.resolve(workspace.queryUrl)).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'PrometheusEndpoint'] }, 'api/v1/query']],
    });
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0];
    const arn = { 'Fn::GetAtt': [id, 'Arn'] };
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Action: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'],
        Effect: 'Allow',
        Resource: arn,
      },
      { Action: 'aps:RemoteWrite', Effect: 'Allow', Resource: arn },
    ]);
  });

  it('sends alerts to an SNS topic that AMP may publish to, and may use the key of', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Alerts', { masterKey: key });
    const workspace = new PrometheusWorkspace(stack, 'Prom', { alarmTopic: topic });
    const template = Template.fromStack(stack);
    const definition = Object.values(template.findResources('AWS::APS::Workspace'))[0].Properties
      .AlertManagerDefinition as { 'Fn::Join': [string, unknown[]] };
    const parts = definition['Fn::Join'][1];
    expect(parts).toContainEqual({ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) });
    expect(String(parts[0])).toContain('alertmanager_config: |');
    expect(parts.join('')).toContain('sns_configs:');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Sid: 'AllowPrometheusAlertManager',
            Effect: 'Allow',
            Principal: { Service: 'aps.amazonaws.com' },
            Action: ['sns:Publish', 'sns:GetTopicAttributes'],
            Resource: { Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) },
            Condition: {
              ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [stack.getLogicalId(workspace.cfnWorkspace), 'Arn'] } },
              StringEquals: { 'aws:SourceAccount': '111122223333' },
            },
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Effect: 'Allow',
            Principal: { Service: 'aps.amazonaws.com' },
            Resource: '*',
            // Only AMP acting for a workspace of this account and region (the workspace's own ARN would be a cycle).
            Condition: {
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':aps:eu-west-1:111122223333:workspace/*']],
                },
              },
              StringEquals: { 'aws:SourceAccount': '111122223333' },
            },
          },
        ]),
      },
    });
  });

  it('refuses aliases AMP refuses, and thresholds that are not ratios', () => {
    const { stack } = newStack();
    expect(() => new PrometheusWorkspace(stack, 'A', { alias: '' })).toThrow(
      'PrometheusWorkspace: alias "" is not valid; an alias has 1 to 100 characters and no leading or trailing blanks',
    );
    expect(() => new PrometheusWorkspace(stack, 'B', { alias: 'x'.repeat(101) })).toThrow(
      'is not valid; an alias has 1 to 100 characters',
    );
    expect(() => new PrometheusWorkspace(stack, 'C', { alias: ' padded' })).toThrow('no leading or trailing blanks');
    expect(() => new PrometheusWorkspace(stack, 'D', { alias: 'tab\there' })).toThrow('it contains control characters');
    expect(() => new PrometheusWorkspace(stack, 'E', { alertThresholds: { errorRatio: 5 } })).toThrow(
      'PrometheusWorkspace: alertThresholds.errorRatio must be above 0 and at most 1; got 5',
    );
  });

  it('puts the thresholds into the alerting rules', () => {
    const { stack } = newStack();
    new PrometheusWorkspace(stack, 'Prom', {
      alertThresholds: {
        errorRatio: 0.1,
        p99Duration: Duration.seconds(3),
        coldStartRatio: 0.5,
        concurrencyLimit: 100,
      },
    });
    const data = Object.values(Template.fromStack(stack).findResources('AWS::APS::RuleGroupsNamespace'))[0].Properties
      .Data as string;
    expect(data).toContain('"job:faas_error_ratio:rate5m > 0.1"');
    expect(data).toContain('"job:faas_invoke_duration_seconds:p99_5m > 3"');
    expect(data).toContain('"job:faas_coldstart_ratio:rate5m > 0.5"');
    expect(data).toContain('"job:faas_concurrency:avg5m > 80"');
  });
});

describe.skipIf(!promtoolBinary)('Lambda rules, evaluated by promtool', () => {
  const rules = renderRulesFile(lambdaRuleGroups());

  it('is a valid Prometheus rules file', () => {
    expect(promtool(promtoolBinary!, ['check', 'rules', 'rules.yml'], { 'rules.yml': rules })).toContain(
      'SUCCESS: 11 rules found',
    );
  });

  it('fires every alert for a failing, slow, cold and busy function and none for a healthy one', () => {
    // Per minute: worker 10 successes, 1 error, 1 timeout, 6 cold starts, every invocation 10-30 s
    // (60,000 s of invocation per minute is a concurrency of 1,000); api 600 fast successes, 1 cold start.
    const series = (name: string, job: string, values: string, extra = '') =>
      `      - series: '${name}{job="${job}",instance="env-1"${extra}}'\n        values: '${values}'`;
    const input = [
      series('faas_invocations_total', 'worker', '0+10x40'),
      series('faas_errors_total', 'worker', '0+1x40'),
      series('faas_timeouts_total', 'worker', '0+1x40'),
      series('faas_coldstarts_total', 'worker', '0+6x40'),
      series('faas_invoke_duration_seconds_bucket', 'worker', '0x40', ',le="10"'),
      series('faas_invoke_duration_seconds_bucket', 'worker', '0+12x40', ',le="30"'),
      series('faas_invoke_duration_seconds_bucket', 'worker', '0+12x40', ',le="+Inf"'),
      series('faas_invoke_duration_seconds_sum', 'worker', '0+60000x40'),
      series('faas_invocations_total', 'api', '0+600x40'),
      series('faas_errors_total', 'api', '0x40'),
      series('faas_timeouts_total', 'api', '0x40'),
      series('faas_coldstarts_total', 'api', '0+1x40'),
      series('faas_invoke_duration_seconds_bucket', 'api', '0+600x40', ',le="0.1"'),
      series('faas_invoke_duration_seconds_bucket', 'api', '0+600x40', ',le="+Inf"'),
      series('faas_invoke_duration_seconds_sum', 'api', '0+30x40'),
    ].join('\n');
    const alert = (name: string, severity: string) =>
      `          - labels: 'ALERTS{alertname="${name}",alertstate="firing",job="worker",severity="${severity}"}'\n            value: 1`;
    const tests = `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
${input}
    promql_expr_test:
      - expr: 'ALERTS{alertstate="firing"}'
        eval_time: 30m
        exp_samples:
${[
  alert('LambdaHighErrorRate', 'critical'),
  alert('LambdaTimeouts', 'warning'),
  alert('LambdaHighP99Duration', 'warning'),
  alert('LambdaHighColdStartRate', 'info'),
  alert('LambdaThrottleRisk', 'warning'),
].join('\n')}
      - expr: 'job:faas_error_ratio:rate5m'
        eval_time: 30m
        exp_samples:
          - labels: 'job:faas_error_ratio:rate5m{job="api"}'
            value: 0
          - labels: 'job:faas_error_ratio:rate5m{job="worker"}'
            value: 0.16666666666666666
      - expr: 'job:faas_concurrency:avg5m'
        eval_time: 30m
        exp_samples:
          - labels: 'job:faas_concurrency:avg5m{job="api"}'
            value: 0.5
          - labels: 'job:faas_concurrency:avg5m{job="worker"}'
            value: 1000.0000000000001
`;
    expect(
      promtool(promtoolBinary!, ['test', 'rules', 'tests.yml'], { 'rules.yml': rules, 'tests.yml': tests }),
    ).toContain('SUCCESS');
  });
});
