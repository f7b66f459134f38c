/**
 * Integration test: the whole library in one stack (an observed function of
 * each module format, an existing function observed by the aspect, the
 * Prometheus and Grafana workspaces), checked against the committed snapshot
 * by integ-runner and by the cdk-nag AwsSolutions rules.
 */
import { join } from 'node:path';
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Aspects, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  FlushStrategy,
  GrafanaAuthentication,
  GrafanaWorkspace,
  ObservedFunction,
  ObserveFunctions,
  PrometheusWorkspace,
  TelemetryDestination,
} from '../lib/index.js';

const app = new App();
const stack = new Stack(app, 'ObservedLambdaInteg');

function logging(id: string): { logGroup: logs.ILogGroup; role: iam.IRole } {
  const logGroup = new logs.LogGroup(stack, `${id}Logs`, {
    retention: logs.RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(stack, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  return { logGroup, role };
}

const prometheus = new PrometheusWorkspace(stack, 'Metrics', { alias: 'observed-lambda-integ' });
new GrafanaWorkspace(stack, 'Dashboards', { authentication: GrafanaAuthentication.iamIdentityCenter(), prometheus });

const otlpHeaders = new secretsmanager.Secret(stack, 'OtlpHeaders', {
  description: 'Headers of the OTLP backend (name=value pairs)',
});
Validations.of(otlpHeaders).acknowledge({
  id: 'AwsSolutions-SMG4',
  reason: 'An API key issued by the OTLP vendor: Secrets Manager has no way to rotate it.',
});

const destinations = [
  TelemetryDestination.prometheus(prometheus),
  TelemetryDestination.otlp({ endpoint: 'https://otlp.example.com', headersSecret: otlpHeaders }),
];

new ObservedFunction(stack, 'EsmFunction', {
  entry: join(__dirname, '..', 'examples', 'sample-app', 'handlers', 'orders.mjs'),
  architecture: lambda.Architecture.ARM_64,
  ...logging('EsmFunction'),
  telemetry: { destinations, flush: FlushStrategy.endOfInvocation() },
});
new ObservedFunction(stack, 'CjsFunction', {
  entry: join(__dirname, '..', 'examples', 'sample-app', 'handlers', 'payments.cjs'),
  ...logging('CjsFunction'),
  telemetry: { destinations },
});

// An existing function, observed by the aspect through the layer's exec wrapper.
new lambda.Function(stack, 'ExistingFunction', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 204 });'),
  ...logging('ExistingFunction'),
});
Aspects.of(stack).add(new ObserveFunctions({ destinations: [TelemetryDestination.prometheus(prometheus)] }));

new IntegTest(app, 'ObservedLambda', { testCases: [stack] });

// Checked once the aspects have run, so that what ObserveFunctions adds is checked too.
app.synth();
const nag = new AwsSolutionsChecks(app).validateScope(stack);
if (!nag.success) {
  const found = nag.violations.map(
    (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
  );
  throw new Error(`cdk-nag AwsSolutions findings:\n${found.join('\n')}`);
}
