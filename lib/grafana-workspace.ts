import { CustomResource, Duration, RemovalPolicy, Resource, Stack, Token } from 'aws-cdk-lib';
import * as grafana from 'aws-cdk-lib/aws-grafana';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { BuiltInDashboard, Dashboard } from './dashboard.js';
import { renderDashboard } from './dashboards/model.js';
import { constructError } from './errors.js';
import { ObserveFunctions } from './observe.js';
import { packagedPath } from './package-paths.js';
import type { IPrometheusWorkspace } from './prometheus-workspace.js';
import { defaultNodeRuntime } from './runtimes.js';

/** SAML settings of a Grafana workspace. */
export interface GrafanaSamlOptions {
  /**
   * URL of the identity provider's SAML metadata. Give this or `idpMetadataXml`.
   * @default - use `idpMetadataXml`
   */
  readonly idpMetadataUrl?: string;
  /**
   * The identity provider's SAML metadata document. Give this or `idpMetadataUrl`.
   * @default - use `idpMetadataUrl`
   */
  readonly idpMetadataXml?: string;
  /** Values of the role assertion that make a user a Grafana admin. */
  readonly adminRoleValues: string[];
  /**
   * Values of the role assertion that make a user an editor.
   * @default - no editors
   */
  readonly editorRoleValues?: string[];
  /**
   * Name of the SAML assertion attribute that holds the role.
   * @default 'role'
   */
  readonly roleAssertion?: string;
  /**
   * How long a login stays valid.
   * @default Duration.hours(24)
   */
  readonly loginValidity?: Duration;
}

/** How users sign in to the Grafana workspace. */
export class GrafanaAuthentication {
  /** AWS IAM Identity Center (formerly AWS SSO). */
  public static iamIdentityCenter(): GrafanaAuthentication {
    return new GrafanaAuthentication('AWS_SSO', undefined);
  }

  /** A SAML 2.0 identity provider. */
  public static saml(options: GrafanaSamlOptions): GrafanaAuthentication {
    if ((options?.idpMetadataUrl === undefined) === (options?.idpMetadataXml === undefined)) {
      throw new Error('GrafanaAuthentication.saml: give exactly one of `idpMetadataUrl` or `idpMetadataXml`');
    }
    if (!options.adminRoleValues || options.adminRoleValues.length === 0) {
      throw new Error(
        'GrafanaAuthentication.saml: `adminRoleValues` needs at least one value, or nobody can administer the workspace',
      );
    }
    const minutes = options.loginValidity?.toMinutes() ?? 24 * 60;
    return new GrafanaAuthentication('SAML', {
      idpMetadata: { url: options.idpMetadataUrl, xml: options.idpMetadataXml },
      assertionAttributes: { role: options.roleAssertion ?? 'role' },
      roleValues: { admin: options.adminRoleValues, editor: options.editorRoleValues },
      loginValidityDuration: minutes,
    });
  }

  private constructor(
    /** The provider name CloudFormation takes. */
    public readonly provider: string,
    /** @internal */
    public readonly _saml: grafana.CfnWorkspace.SamlConfigurationProperty | undefined,
  ) {}
}

/** Who manages the workspace's IAM permissions. */
export enum GrafanaPermissionType {
  /** This construct creates the workspace role and grants it exactly what it needs (query the Prometheus workspace). */
  CUSTOMER_MANAGED = 'CUSTOMER_MANAGED',
  /** Amazon Managed Grafana creates and manages the role. */
  SERVICE_MANAGED = 'SERVICE_MANAGED',
}

/** Properties of a {@link GrafanaWorkspace}. */
export interface GrafanaWorkspaceProps {
  /** How users sign in. */
  readonly authentication: GrafanaAuthentication;

  /**
   * The Prometheus workspace the dashboards read; a SigV4 data source for it is created in Grafana.
   * @default - no data source and no dashboards
   */
  readonly prometheus?: IPrometheusWorkspace;

  /**
   * Name of the workspace.
   * @default - a name CloudFormation generates
   */
  readonly workspaceName?: string;

  /**
   * Grafana version.
   * @default '10.4'
   */
  readonly grafanaVersion?: string;

  /**
   * Who manages the workspace's IAM role.
   * @default GrafanaPermissionType.CUSTOMER_MANAGED
   */
  readonly permissionType?: GrafanaPermissionType;

  /**
   * Whether to upload the built-in Lambda dashboards (needs `prometheus`); `false` is the same as
   * `builtInDashboards: []`.
   * @default true
   */
  readonly dashboards?: boolean;

  /**
   * Which built-in Lambda dashboards to upload (needs `prometheus`).
   * @default - all of them, unless `dashboards` is false
   */
  readonly builtInDashboards?: BuiltInDashboard[];

  /**
   * Dashboards of your own, uploaded next to the built-in ones into the same folder and data source (needs
   * `prometheus`). Their uids must differ from each other and from the built-in ones.
   * @default - none
   */
  readonly additionalDashboards?: Dashboard[];
}

/** UID of the Prometheus data source the provisioner creates. */
export const DATA_SOURCE_UID = 'observed-lambda-amp';
const FOLDER_UID = 'observed-lambda';
const NAME_PATTERN = /^[a-zA-Z0-9\-._~]{1,255}$/;

/**
 * An Amazon Managed Grafana workspace wired to a Prometheus workspace: a
 * SigV4 data source and the Lambda dashboards, provisioned through Grafana's
 * HTTP API with a short-lived service account token, and removed with the
 * stack.
 */
export class GrafanaWorkspace extends Resource {
  /** The workspace id (`g-...`). */
  public readonly workspaceId: string;
  /** The workspace ARN. */
  public readonly workspaceArn: string;
  /** The workspace URL, `https://<id>.grafana-workspace.<region>.amazonaws.com`. */
  public readonly url: string;
  /** The role Grafana uses to read AWS data sources (CUSTOMER_MANAGED only). */
  public readonly role?: iam.IRole;
  /** The underlying CloudFormation workspace. */
  public readonly cfnWorkspace: grafana.CfnWorkspace;

  constructor(scope: Construct, id: string, props: GrafanaWorkspaceProps) {
    super(scope, id);
    if (props.authentication === undefined) {
      throw constructError(
        this,
        'GrafanaWorkspace: `authentication` is required, e.g. GrafanaAuthentication.iamIdentityCenter()',
      );
    }
    if (
      props.workspaceName !== undefined &&
      !Token.isUnresolved(props.workspaceName) &&
      !NAME_PATTERN.test(props.workspaceName)
    ) {
      throw constructError(
        this,
        `GrafanaWorkspace: workspaceName "${props.workspaceName}" is not valid; use 1 to 255 of letters, digits and - . _ ~`,
      );
    }
    const dashboards = this.dashboardsToUpload(props);
    const permissionType = props.permissionType ?? GrafanaPermissionType.CUSTOMER_MANAGED;
    const stack = Stack.of(this);

    if (permissionType === GrafanaPermissionType.CUSTOMER_MANAGED) {
      const role = new iam.Role(this, 'Role', {
        assumedBy: new iam.ServicePrincipal('grafana.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        description: 'Amazon Managed Grafana: read the Prometheus workspace of observed functions',
      });
      props.prometheus?.grantQuery(role);
      this.role = role;
    }

    this.cfnWorkspace = new grafana.CfnWorkspace(this, 'Resource', {
      name: props.workspaceName,
      accountAccessType: 'CURRENT_ACCOUNT',
      authenticationProviders: [props.authentication.provider],
      samlConfiguration: props.authentication._saml,
      permissionType,
      roleArn: this.role?.roleArn,
      dataSources: ['PROMETHEUS'],
      grafanaVersion: props.grafanaVersion ?? '10.4',
      description: 'Dashboards of observed Lambda functions',
    });
    this.workspaceId = this.cfnWorkspace.attrId;
    this.workspaceArn = `arn:${stack.partition}:grafana:${stack.region}:${stack.account}:/workspaces/${this.workspaceId}`;
    this.url = `https://${this.cfnWorkspace.attrEndpoint}`;

    if (props.prometheus !== undefined) this.provision(props.prometheus, dashboards);
  }

  private dashboardsToUpload(props: GrafanaWorkspaceProps): Dashboard[] {
    const wanted =
      props.dashboards === true ||
      props.builtInDashboards !== undefined ||
      (props.additionalDashboards?.length ?? 0) > 0;
    if (wanted && props.prometheus === undefined) {
      throw constructError(
        this,
        'GrafanaWorkspace: dashboards need a data source; give `prometheus` (a PrometheusWorkspace)',
      );
    }
    if (props.dashboards === false && (props.builtInDashboards?.length ?? 0) > 0) {
      throw constructError(
        this,
        'GrafanaWorkspace: `dashboards` is false but `builtInDashboards` names some; drop one of them',
      );
    }
    const builtIn =
      props.builtInDashboards ??
      (props.dashboards === false ? [] : [BuiltInDashboard.LAMBDA_OVERVIEW, BuiltInDashboard.LAMBDA_FUNCTION]);
    const all = [...new Set(builtIn)].map((d) => Dashboard.builtIn(d)).concat(props.additionalDashboards ?? []);
    const seen = new Set<string>();
    for (const dashboard of all) {
      if (seen.has(dashboard.uid)) {
        throw constructError(
          this,
          `GrafanaWorkspace: two dashboards have the uid "${dashboard.uid}"; every dashboard needs its own (the built-in ones use ${Object.values(BuiltInDashboard).join(' and ')})`,
        );
      }
      seen.add(dashboard.uid);
    }
    return all;
  }

  private provision(prometheus: IPrometheusWorkspace, dashboards: Dashboard[]): void {
    const logGroup = new logs.LogGroup(this, 'ProvisionerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'ProvisionerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Provisions the data source and dashboards of one Grafana workspace',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'grafana:CreateWorkspaceServiceAccount',
          'grafana:ListWorkspaceServiceAccounts',
          'grafana:DeleteWorkspaceServiceAccount',
          'grafana:CreateWorkspaceServiceAccountToken',
          'grafana:DeleteWorkspaceServiceAccountToken',
        ],
        resources: [this.workspaceArn],
      }),
    );
    const handler = new lambda.Function(this, 'Provisioner', {
      runtime: defaultNodeRuntime(),
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(packagedPath('dist/custom-resources/grafana', 'build:custom-resources')),
      handler: 'index.handler',
      timeout: Duration.minutes(5),
      memorySize: 256,
      role,
      logGroup,
      description: 'observed-lambda: Grafana data source and dashboards',
    });
    // The provisioner is ours, not the user's: an ObserveFunctions aspect leaves it alone.
    ObserveFunctions.exclude(handler);

    const datasource = { type: 'prometheus' as const, uid: DATA_SOURCE_UID };
    const stack = Stack.of(this);
    new CustomResource(this, 'Provisioning', {
      serviceToken: handler.functionArn,
      resourceType: 'Custom::ObservedLambdaGrafana',
      properties: {
        WorkspaceId: this.workspaceId,
        GrafanaUrl: this.url,
        DataSource: {
          Uid: DATA_SOURCE_UID,
          Name: 'Amazon Managed Service for Prometheus (observed-lambda)',
          Url: prometheus.prometheusEndpoint,
          Region: stack.region,
        },
        Folder: { Uid: FOLDER_UID, Title: 'Lambda (observed-lambda)' },
        Dashboards: dashboards.map((d) => JSON.stringify(renderDashboard(d._definition, datasource))),
      },
    });
  }
}
