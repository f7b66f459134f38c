import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  BuiltInDashboard,
  Dashboard,
  DashboardPanel,
  GrafanaAuthentication,
  GrafanaPermissionType,
  GrafanaWorkspace,
  PrometheusWorkspace,
} from '../../lib/index.js';
import { teamDashboard } from './fixtures/team-dashboard.js';
import { newStack } from './helpers.js';

describe('GrafanaWorkspace', () => {
  it('creates the workspace with a role that may query the Prometheus workspace and nothing else', () => {
    const { stack } = newStack();
    const prometheus = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const grafana = new GrafanaWorkspace(stack, 'Grafana', {
      authentication: GrafanaAuthentication.iamIdentityCenter(),
      prometheus,
      workspaceName: 'lambda-dashboards',
    });
    const template = Template.fromStack(stack);
    const roleId = stack.getLogicalId(grafana.role!.node.defaultChild as never);
    const promArn = { 'Fn::GetAtt': [stack.getLogicalId(prometheus.cfnWorkspace), 'Arn'] };
    template.hasResourceProperties('AWS::Grafana::Workspace', {
      Name: 'lambda-dashboards',
      AccountAccessType: 'CURRENT_ACCOUNT',
      AuthenticationProviders: ['AWS_SSO'],
      PermissionType: 'CUSTOMER_MANAGED',
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      DataSources: ['PROMETHEUS'],
      GrafanaVersion: '10.4',
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'grafana.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
          },
        ],
      },
    });
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    expect(Object.values(policies).map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [
        {
          Action: ['aps:QueryMetrics', 'aps:GetSeries', 'aps:GetLabels', 'aps:GetMetricMetadata'],
          Effect: 'Allow',
          Resource: promArn,
        },
      ],
    ]);
  });

  it('provisions the data source and dashboards with a provisioner that may only manage its service account tokens and logs', () => {
    const { stack } = newStack();
    const prometheus = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const grafana = new GrafanaWorkspace(stack, 'Grafana', {
      authentication: GrafanaAuthentication.iamIdentityCenter(),
      prometheus,
    });
    const template = Template.fromStack(stack);
    const grafanaId = stack.getLogicalId(grafana.cfnWorkspace);
    const resource = Object.values(template.findResources('Custom::ObservedLambdaGrafana'))[0];
    const props = resource.Properties;
    expect(props.WorkspaceId).toEqual({ 'Fn::GetAtt': [grafanaId, 'Id'] });
    expect(props.GrafanaUrl).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [grafanaId, 'Endpoint'] }]] });
    expect(props.DataSource).toEqual({
      Uid: 'observed-lambda-amp',
      Name: 'Amazon Managed Service for Prometheus (observed-lambda)',
      Url: { 'Fn::GetAtt': [stack.getLogicalId(prometheus.cfnWorkspace), 'PrometheusEndpoint'] },
      Region: 'eu-west-1',
    });
    const dashboards = (props.Dashboards as string[]).map((d) => JSON.parse(d) as { uid: string; panels: unknown[] });
    expect(dashboards.map((d) => d.uid)).toEqual(['observed-lambda-overview', 'observed-lambda-function']);
    expect(JSON.stringify(dashboards)).toContain('"uid":"observed-lambda-amp"');

    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^GrafanaProvisionerLogs') } },
    });
    const provisionerRole = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) =>
      id.startsWith('GrafanaProvisionerRole'),
    )!;
    expect(provisionerRole[1].Properties.ManagedPolicyArns).toBeUndefined();
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: provisionerRole[0] }] },
    });
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) =>
      id.startsWith('GrafanaProvisionerLogs'),
    );
    const workspaceArn = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':grafana:eu-west-1:111122223333:/workspaces/',
          { 'Fn::GetAtt': [grafanaId, 'Id'] },
        ],
      ],
    };
    expect(Object.values(policies).map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Action: [
            'grafana:CreateWorkspaceServiceAccount',
            'grafana:ListWorkspaceServiceAccounts',
            'grafana:DeleteWorkspaceServiceAccount',
            'grafana:CreateWorkspaceServiceAccountToken',
            'grafana:DeleteWorkspaceServiceAccountToken',
          ],
          Effect: 'Allow',
          Resource: workspaceArn,
        },
      ],
    ]);
  });

  it('takes SAML and service-managed permissions, without a role or provisioner when there is no Prometheus', () => {
    const { stack } = newStack();
    new GrafanaWorkspace(stack, 'Grafana', {
      authentication: GrafanaAuthentication.saml({
        idpMetadataUrl: 'https://idp.example.com/metadata',
        adminRoleValues: ['grafana-admins'],
        loginValidity: Duration.hours(8),
      }),
      permissionType: GrafanaPermissionType.SERVICE_MANAGED,
      dashboards: false,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Grafana::Workspace', {
      AuthenticationProviders: ['SAML'],
      PermissionType: 'SERVICE_MANAGED',
      RoleArn: Match.absent(),
      SamlConfiguration: {
        IdpMetadata: { Url: 'https://idp.example.com/metadata' },
        AssertionAttributes: { Role: 'role' },
        RoleValues: { Admin: ['grafana-admins'] },
        LoginValidityDuration: 480,
      },
    });
    template.resourceCountIs('AWS::IAM::Role', 0);
    template.resourceCountIs('Custom::ObservedLambdaGrafana', 0);
  });

  it('refuses misuse with messages that say what to change', () => {
    const { stack } = newStack();
    const auth = GrafanaAuthentication.iamIdentityCenter();
    expect(() => new GrafanaWorkspace(stack, 'A', { authentication: auth, workspaceName: 'has spaces' })).toThrow(
      'GrafanaWorkspace: workspaceName "has spaces" is not valid; use 1 to 255 of letters, digits and - . _ ~',
    );
    expect(() => new GrafanaWorkspace(stack, 'B', { authentication: auth, dashboards: true })).toThrow(
      'GrafanaWorkspace: dashboards need a data source; give `prometheus` (a PrometheusWorkspace)',
    );
    expect(() => GrafanaAuthentication.saml({ adminRoleValues: ['a'] })).toThrow(
      'GrafanaAuthentication.saml: give exactly one of `idpMetadataUrl` or `idpMetadataXml`',
    );
    expect(() => GrafanaAuthentication.saml({ idpMetadataXml: '<x/>', adminRoleValues: [] })).toThrow(
      '`adminRoleValues` needs at least one value',
    );
  });

  it('uploads your own dashboards next to the built-in ones you keep, rendered with the same model', () => {
    const { stack } = newStack();
    const prometheus = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    new GrafanaWorkspace(stack, 'Grafana', {
      authentication: GrafanaAuthentication.iamIdentityCenter(),
      prometheus,
      builtInDashboards: [BuiltInDashboard.LAMBDA_FUNCTION],
      additionalDashboards: [teamDashboard()],
    });
    const props = Object.values(Template.fromStack(stack).findResources('Custom::ObservedLambdaGrafana'))[0].Properties;
    const dashboards = (props.Dashboards as string[]).map((d) => JSON.parse(d));
    expect(dashboards.map((d) => d.uid)).toEqual(['observed-lambda-function', 'checkout-team']);
    const team = dashboards[1];
    expect(team.title).toBe('Checkout team');
    expect(team.tags).toEqual(['checkout']);
    expect(team.templating.list[0]).toMatchObject({
      name: 'function',
      query: { query: 'label_values(faas_invocations_total, job)' },
      multi: true,
      includeAll: false,
      datasource: { type: 'prometheus', uid: 'observed-lambda-amp' },
    });
    const [row, stat, graph] = team.panels;
    expect(row).toMatchObject({ type: 'row', title: 'Checkout', gridPos: { x: 0, y: 0, w: 24, h: 1 } });
    expect(stat).toMatchObject({
      type: 'stat',
      title: 'Successful checkouts (range)',
      gridPos: { x: 0, y: 1, w: 6, h: 4 },
      options: { reduceOptions: { calcs: ['sum'] } },
      targets: [{ refId: 'A', expr: 'sum(increase(faas_invocations_total{job=~"$function"}[$__rate_interval]))' }],
    });
    // 6 + 18 columns fill the row.
    expect(graph).toMatchObject({
      type: 'timeseries',
      gridPos: { x: 6, y: 1, w: 18, h: 8 },
      fieldConfig: { defaults: { unit: 's' } },
    });
  });

  it('keeps no built-in dashboard when asked, and refuses clashing uids and dashboards without Prometheus', () => {
    const { stack } = newStack();
    const prometheus = new PrometheusWorkspace(stack, 'Prom', { rules: false });
    const auth = GrafanaAuthentication.iamIdentityCenter();
    new GrafanaWorkspace(stack, 'Only', {
      authentication: auth,
      prometheus,
      builtInDashboards: [],
      additionalDashboards: [teamDashboard()],
    });
    const props = Object.values(Template.fromStack(stack).findResources('Custom::ObservedLambdaGrafana'))[0].Properties;
    expect((props.Dashboards as string[]).map((d) => JSON.parse(d).uid)).toEqual(['checkout-team']);
    expect(
      () =>
        new GrafanaWorkspace(stack, 'Twice', {
          authentication: auth,
          prometheus,
          additionalDashboards: [teamDashboard(), teamDashboard()],
        }),
    ).toThrow('GrafanaWorkspace: two dashboards have the uid "checkout-team"; every dashboard needs its own');
    expect(
      () =>
        new GrafanaWorkspace(stack, 'Clash', {
          authentication: auth,
          prometheus,
          additionalDashboards: [Dashboard.builtIn(BuiltInDashboard.LAMBDA_OVERVIEW)],
        }),
    ).toThrow('two dashboards have the uid "observed-lambda-overview"');
    expect(
      () => new GrafanaWorkspace(stack, 'NoData', { authentication: auth, additionalDashboards: [teamDashboard()] }),
    ).toThrow(
      'GrafanaWorkspace: dashboards need a data source; give `prometheus` (a PrometheusWorkspace) (at Test/NoData)',
    );
    expect(
      () =>
        new GrafanaWorkspace(stack, 'Both', {
          authentication: auth,
          prometheus,
          dashboards: false,
          builtInDashboards: [BuiltInDashboard.LAMBDA_OVERVIEW],
        }),
    ).toThrow('`dashboards` is false but `builtInDashboards` names some');
  });

  it('refuses panels and dashboards Grafana could not show, saying what to change', () => {
    expect(() => DashboardPanel.timeSeries({ title: 'Empty', queries: [] })).toThrow(
      'DashboardPanel.timeSeries "Empty": `queries` needs at least one PromQL query',
    );
    expect(() => DashboardPanel.stat({ title: 'Wide', queries: [{ expr: 'up' }], width: 30 })).toThrow(
      'DashboardPanel.stat "Wide": `width` is a whole number of grid columns from 1 to 24; got 30',
    );
    const panel = DashboardPanel.timeSeries({ title: 'Up', queries: [{ expr: 'up' }] });
    expect(() => new Dashboard({ uid: 'has space', title: 'T', rows: [{ title: 'R', panels: [panel] }] })).toThrow(
      'Dashboard: `uid` must be 1 to 40 of letters, digits, - and _; got "has space"',
    );
    expect(() => new Dashboard({ uid: 'empty', title: 'T', rows: [{ title: 'R', panels: [] }] })).toThrow(
      'Dashboard "empty": `rows` needs at least one row, and every row at least one panel',
    );
  });
});
