import { join } from 'node:path';
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import {
  GrafanaAuthentication,
  GrafanaWorkspace,
  ObservedFunction,
  PrometheusWorkspace,
  TelemetryDestination,
} from '../../lib/index.js';

/**
 * Two observed functions (an ES module and a CommonJS handler) writing to an
 * Amazon Managed Service for Prometheus workspace, its alerts going to an
 * encrypted SNS topic, and a Grafana workspace with the Lambda dashboards.
 */
export class SampleStack extends Stack {
  readonly functions: ObservedFunction[];

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const alertsKey = new kms.Key(this, 'AlertsKey', {
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      description: 'Encrypts the Lambda alerts topic',
    });
    const alerts = new sns.Topic(this, 'Alerts', { masterKey: alertsKey, enforceSSL: true });

    const prometheus = new PrometheusWorkspace(this, 'Metrics', {
      alias: 'observed-lambda-sample',
      logging: true,
      alarmTopic: alerts,
    });

    new GrafanaWorkspace(this, 'Dashboards', {
      authentication: GrafanaAuthentication.iamIdentityCenter(),
      prometheus,
    });

    const telemetry = { destinations: [TelemetryDestination.prometheus(prometheus)] };
    this.functions = [
      new ObservedFunction(this, 'Orders', {
        entry: join(__dirname, 'handlers', 'orders.mjs'),
        architecture: lambda.Architecture.ARM_64,
        ...this.logging('Orders'),
        telemetry,
      }),
      new ObservedFunction(this, 'Payments', {
        entry: join(__dirname, 'handlers', 'payments.cjs'),
        ...this.logging('Payments'),
        telemetry,
      }),
    ];
  }

  /**
   * A log group and a role that may write to it and nothing else (instead of the managed basic
   * execution policy, whose log permissions cover every log group).
   */
  private logging(id: string): { logGroup: logs.ILogGroup; role: iam.IRole } {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: logs.RetentionDays.TWO_WEEKS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    return { logGroup, role };
  }
}
