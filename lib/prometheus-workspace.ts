import { type Duration, type IResource, Lazy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct, IConstruct } from 'constructs';
import { constructError } from './errors.js';
import { DEFAULT_THRESHOLDS, lambdaRuleGroups, renderRulesFile } from './prometheus-rules.js';

/** An Amazon Managed Service for Prometheus workspace. */
export interface IPrometheusWorkspace extends IResource {
  /** The workspace id (`ws-...`). @attribute */
  readonly workspaceId: string;
  /** The workspace ARN. @attribute */
  readonly workspaceArn: string;
  /** The workspace's Prometheus endpoint, ending in `/` (`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/`). */
  readonly prometheusEndpoint: string;
  /** The remote write URL (`<endpoint>api/v1/remote_write`). */
  readonly remoteWriteUrl: string;
  /** The instant query URL (`<endpoint>api/v1/query`). */
  readonly queryUrl: string;
  /** Lets `grantee` write samples to this workspace (`aps:RemoteWrite`). */
  grantRemoteWrite(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` query this workspace (`aps:QueryMetrics`, `aps:GetSeries`, `aps:GetLabels`, `aps:GetMetricMetadata`). */
  grantQuery(grantee: iam.IGrantable): iam.Grant;
}

/** Attributes of an existing workspace. */
export interface PrometheusWorkspaceAttributes {
  /** The workspace id (`ws-...`). */
  readonly workspaceId: string;
  /**
   * The workspace's Prometheus endpoint.
   * @default - `https://aps-workspaces.<stack region>.amazonaws.com/workspaces/<workspaceId>/`
   */
  readonly prometheusEndpoint?: string;
}

/** Thresholds of the alerting rules. */
export interface PrometheusAlertThresholds {
  /**
   * Share of invocations ending in an error or a timeout above which `LambdaHighErrorRate` fires.
   * @default 0.05
   */
  readonly errorRatio?: number;
  /**
   * p99 invocation duration above which `LambdaHighP99Duration` fires.
   * @default Duration.seconds(10)
   */
  readonly p99Duration?: Duration;
  /**
   * Share of invocations that are cold starts above which `LambdaHighColdStartRate` fires.
   * @default 0.25
   */
  readonly coldStartRatio?: number;
  /**
   * Concurrency limit the functions run under (their reserved concurrency, or the account's); `LambdaThrottleRisk`
   * fires when the average concurrency passes 80% of it.
   * @default 1000
   */
  readonly concurrencyLimit?: number;
}

/** Properties of a {@link PrometheusWorkspace}. */
export interface PrometheusWorkspaceProps {
  /**
   * A name for the workspace (up to 100 characters; leading and trailing blanks are not allowed).
   * @default - no alias
   */
  readonly alias?: string;

  /**
   * Customer managed KMS key that encrypts the workspace's data.
   * @default - an AWS owned key
   */
  readonly kmsKey?: kms.IKey;

  /**
   * Log group for the workspace's rules and alerting logs.
   * @default - a new log group when `logging` is true, else none
   */
  readonly logGroup?: logs.ILogGroup;

  /**
   * Whether to log rule evaluation and alerting to CloudWatch Logs.
   * @default - true when `logGroup` is given, else false
   */
  readonly logging?: boolean;

  /**
   * Whether to add the recording and alerting rules for observed functions (errors, p99 duration, cold starts,
   * throttle risk).
   * @default true
   */
  readonly rules?: boolean;

  /**
   * Thresholds of the alerting rules.
   * @default - see PrometheusAlertThresholds
   */
  readonly alertThresholds?: PrometheusAlertThresholds;

  /**
   * SNS topic that receives the alerts (an alert manager definition is added). AMP is allowed to publish to it
   * (and to use its KMS key).
   * @default - no alert manager; alerts show in the workspace only
   */
  readonly alarmTopic?: sns.ITopic;
}

abstract class PrometheusWorkspaceBase extends Resource implements IPrometheusWorkspace {
  public abstract readonly workspaceId: string;
  public abstract readonly workspaceArn: string;
  public abstract readonly prometheusEndpoint: string;

  public get remoteWriteUrl(): string {
    return `${this.prometheusEndpoint}api/v1/remote_write`;
  }

  public get queryUrl(): string {
    return `${this.prometheusEndpoint}api/v1/query`;
  }

  public grantRemoteWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['aps:RemoteWrite'], resourceArns: [this.workspaceArn] });
  }

  public grantQuery(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'],
      resourceArns: [this.workspaceArn],
    });
  }
}

/** Throws when `alias` would be refused by AMP. */
export function validateWorkspaceAlias(scope: IConstruct, alias: string | undefined): void {
  if (alias === undefined || Token.isUnresolved(alias)) return;
  if (alias.trim() === '' || alias.length > 100 || alias.trim() !== alias) {
    throw constructError(
      scope,

      `PrometheusWorkspace: alias "${alias}" is not valid; an alias has 1 to 100 characters and no leading or trailing blanks`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(alias)) {
    throw constructError(
      scope,
      `PrometheusWorkspace: alias ${JSON.stringify(alias)} is not valid; it contains control characters`,
    );
  }
}

/**
 * An Amazon Managed Service for Prometheus workspace with recording and
 * alerting rules for observed Lambda functions, optional KMS encryption,
 * logging and an SNS alert manager.
 */
export class PrometheusWorkspace extends PrometheusWorkspaceBase {
  /** An existing workspace. */
  public static fromWorkspaceAttributes(
    scope: Construct,
    id: string,
    attrs: PrometheusWorkspaceAttributes,
  ): IPrometheusWorkspace {
    class Imported extends PrometheusWorkspaceBase {
      public readonly workspaceId = attrs.workspaceId;
      public readonly workspaceArn = Stack.of(scope).formatArn({
        service: 'aps',
        resource: 'workspace',
        resourceName: attrs.workspaceId,
      });
      public readonly prometheusEndpoint =
        attrs.prometheusEndpoint ??
        `https://aps-workspaces.${Stack.of(scope).region}.${Stack.of(scope).urlSuffix}/workspaces/${attrs.workspaceId}/`;
    }
    return new Imported(scope, id);
  }

  public readonly workspaceId: string;
  public readonly workspaceArn: string;
  public readonly prometheusEndpoint: string;
  /** The underlying CloudFormation workspace. */
  public readonly cfnWorkspace: aps.CfnWorkspace;
  /** The rule groups namespace, when `rules` is on. */
  public readonly ruleGroupsNamespace?: aps.CfnRuleGroupsNamespace;
  /** The log group of rules and alerting logs, when logging is on. */
  public readonly logGroup?: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: PrometheusWorkspaceProps = {}) {
    super(scope, id);
    validateWorkspaceAlias(this, props.alias);
    const thresholds = {
      errorRatio: ratio(
        this,
        'alertThresholds.errorRatio',
        props.alertThresholds?.errorRatio,
        DEFAULT_THRESHOLDS.errorRatio,
      ),
      coldStartRatio: ratio(
        this,
        'alertThresholds.coldStartRatio',
        props.alertThresholds?.coldStartRatio,
        DEFAULT_THRESHOLDS.coldStartRatio,
      ),
      p99DurationSeconds: props.alertThresholds?.p99Duration?.toSeconds() ?? DEFAULT_THRESHOLDS.p99DurationSeconds,
      concurrencyLimit: props.alertThresholds?.concurrencyLimit ?? DEFAULT_THRESHOLDS.concurrencyLimit,
      concurrencyWarningRatio: DEFAULT_THRESHOLDS.concurrencyWarningRatio,
    };
    if (!(thresholds.concurrencyLimit >= 1)) {
      throw constructError(
        this,
        `PrometheusWorkspace: alertThresholds.concurrencyLimit must be 1 or more; got ${thresholds.concurrencyLimit}`,
      );
    }

    const logging = props.logging ?? props.logGroup !== undefined;
    if (props.logging === false && props.logGroup !== undefined) {
      throw constructError(this, 'PrometheusWorkspace: `logGroup` is given but `logging` is false; drop one of them');
    }
    if (logging) {
      this.logGroup = props.logGroup ?? new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });
    }

    this.cfnWorkspace = new aps.CfnWorkspace(this, 'Resource', {
      alias: props.alias,
      kmsKeyArn: props.kmsKey?.keyArn,
      loggingConfiguration: this.logGroup ? { logGroupArn: this.logGroup.logGroupArn } : undefined,
      alertManagerDefinition: props.alarmTopic
        ? Lazy.string({ produce: () => this.alertManagerDefinition(props.alarmTopic!) })
        : undefined,
    });
    this.workspaceId = this.cfnWorkspace.attrWorkspaceId;
    this.workspaceArn = this.cfnWorkspace.attrArn;
    this.prometheusEndpoint = this.cfnWorkspace.attrPrometheusEndpoint;

    if (props.alarmTopic) this.allowPublishing(props.alarmTopic);

    if (props.rules ?? true) {
      this.ruleGroupsNamespace = new aps.CfnRuleGroupsNamespace(this, 'LambdaRules', {
        workspace: this.workspaceArn,
        name: 'observed-lambda',
        data: renderRulesFile(lambdaRuleGroups(thresholds)),
      });
    }
  }

  private alertManagerDefinition(topic: sns.ITopic): string {
    const region = Stack.of(this).region;
    return [
      'alertmanager_config: |',
      '  route:',
      '    receiver: sns',
      '    group_by: [alertname, job]',
      '  receivers:',
      '    - name: sns',
      '      sns_configs:',
      `        - topic_arn: ${topic.topicArn}`,
      '          sigv4:',
      `            region: ${region}`,
      '          attributes:',
      '            source: observed-lambda',
      '',
    ].join('\n');
  }

  private allowPublishing(topic: sns.ITopic): void {
    // Only AMP acting for this workspace, in this account, may use these grants (no confused deputy).
    const account = Stack.of(this).account;
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowPrometheusAlertManager',
        principals: [new iam.ServicePrincipal('aps.amazonaws.com')],
        actions: ['sns:Publish', 'sns:GetTopicAttributes'],
        resources: [topic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': this.workspaceArn },
          StringEquals: { 'aws:SourceAccount': account },
        },
      }),
    );
    // The key policy lives in the key, which the topic and then the workspace depend on: naming this workspace's
    // ARN there would be a cycle, so the key admits the workspaces of this account and region.
    const workspacesHere = Stack.of(this).formatArn({ service: 'aps', resource: 'workspace', resourceName: '*' });
    const aps = new iam.ServicePrincipal('aps.amazonaws.com', {
      conditions: {
        ArnLike: { 'aws:SourceArn': workspacesHere },
        StringEquals: { 'aws:SourceAccount': account },
      },
    });
    topic.masterKey?.grant(aps, 'kms:GenerateDataKey*', 'kms:Decrypt');
  }
}

function ratio(scope: IConstruct, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(value > 0 && value <= 1))
    throw constructError(scope, `PrometheusWorkspace: ${name} must be above 0 and at most 1; got ${value}`);
  return value;
}
