import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CustomResourceEvent,
  handler,
  type ProvisioningProperties,
} from '../../custom-resources-src/grafana/index.js';
import { lambdaDashboards, renderDashboard } from '../../lib/dashboards/index.js';
import { FakeGrafana } from './fake-grafana.js';

const fake = new FakeGrafana();
const savedEnv = { ...process.env };
let requestCount = 0;

function properties(dashboards = lambdaDashboards()): ProvisioningProperties {
  const datasource = { type: 'prometheus' as const, uid: 'observed-lambda-amp' };
  return {
    WorkspaceId: fake.workspaceId,
    GrafanaUrl: fake.url,
    DataSource: {
      Uid: 'observed-lambda-amp',
      Name: 'Amazon Managed Service for Prometheus (observed-lambda)',
      Url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234/',
      Region: 'eu-west-1',
    },
    Folder: { Uid: 'observed-lambda', Title: 'Lambda (observed-lambda)' },
    Dashboards: dashboards.map((d) => JSON.stringify(renderDashboard(d, datasource))),
  };
}

async function send(
  type: CustomResourceEvent['RequestType'],
  props: ProvisioningProperties,
  extra: Partial<CustomResourceEvent> = {},
) {
  requestCount++;
  await handler({
    RequestType: type,
    ResponseURL: `${fake.url}/cfn-response/${requestCount}`,
    StackId: 'arn:aws:cloudformation:eu-west-1:111122223333:stack/Sample/1',
    RequestId: `request-${requestCount}`,
    LogicalResourceId: 'GrafanaProvisioning',
    ResourceProperties: props,
    ...extra,
  });
  const response = fake.responses.at(-1)!;
  expect(response.RequestId).toBe(`request-${requestCount}`);
  return response;
}

beforeAll(async () => {
  await fake.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_GRAFANA: fake.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
});

afterAll(async () => {
  await fake.stop();
  process.env = savedEnv;
});

describe('Grafana provisioning handler', () => {
  beforeEach(() => {
    fake.requests.length = 0;
    fake.clearFaults();
  });

  it('creates the SigV4 data source, the folder and the dashboards with a token it deletes afterwards', async () => {
    const response = await send('Create', properties());
    expect(response.Status).toBe('SUCCESS');
    expect(response.PhysicalResourceId).toBe(`${fake.workspaceId}/observed-lambda`);
    expect(response.Data).toEqual({ DataSourceUid: 'observed-lambda-amp', FolderUid: 'observed-lambda' });

    expect(fake.dataSources.get('observed-lambda-amp')).toMatchObject({
      type: 'prometheus',
      access: 'proxy',
      url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1234',
      jsonData: { sigV4Auth: true, sigV4AuthType: 'ec2_iam_role', sigV4Region: 'eu-west-1', httpMethod: 'POST' },
    });
    expect(fake.folders.get('observed-lambda')?.title).toBe('Lambda (observed-lambda)');
    expect([...fake.dashboards.keys()]).toEqual(['observed-lambda-overview', 'observed-lambda-function']);
    for (const saved of fake.dashboards.values()) expect(saved.folderUid).toBe('observed-lambda');
    expect([...fake.serviceAccounts.values()]).toEqual([
      { id: expect.any(String), name: 'observed-lambda-provisioner', grafanaRole: 'ADMIN' },
    ]);
    expect(fake.tokens.size).toBe(0);
    expect(fake.requests.filter((r) => r.endsWith('/tokens'))).toHaveLength(1);
  });

  it('updates in place, reusing its service account, and removes dashboards that are gone', async () => {
    const [overview] = lambdaDashboards();
    const response = await send('Update', properties([overview]), {
      PhysicalResourceId: `${fake.workspaceId}/observed-lambda`,
      OldResourceProperties: properties(),
    });
    expect(response.Status).toBe('SUCCESS');
    expect([...fake.dashboards.keys()]).toEqual(['observed-lambda-overview']);
    expect(fake.dashboards.get('observed-lambda-overview')?.version).toBe(2);
    expect(fake.requests).toContain('PUT /api/datasources/uid/observed-lambda-amp');
    expect(fake.requests).toContain('DELETE /api/dashboards/uid/observed-lambda-function');
    expect(fake.serviceAccounts.size).toBe(1);
    expect(fake.tokens.size).toBe(0);
  });

  it('retries what Grafana answers with 503 and succeeds', async () => {
    fake.fail('POST', '/api/dashboards/db', 503, { message: 'service unavailable' });
    const response = await send('Update', properties(), { OldResourceProperties: properties() });
    expect(response.Status).toBe('SUCCESS');
    expect(fake.requests.filter((r) => r === 'POST /api/dashboards/db')).toHaveLength(3);
    expect(fake.dashboards.size).toBe(2);
  });

  it('reports Grafana refusals to CloudFormation with the status and message, and still deletes the token', async () => {
    fake.fail('POST', '/api/dashboards/db', 403, { message: 'Access denied to save dashboard' });
    const response = await send('Update', properties(), { OldResourceProperties: properties() });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe('Grafana POST /api/dashboards/db answered 403: Access denied to save dashboard');
    expect(fake.tokens.size).toBe(0);
  });

  it('reports a bad data source request (400) without retrying it', async () => {
    fake.dataSources.clear();
    fake.fail('POST', '/api/datasources', 400, { message: 'Required field is missing' }, 5);
    const response = await send('Update', properties(), { OldResourceProperties: properties() });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toBe('Grafana POST /api/datasources answered 400: Required field is missing');
    expect(fake.requests.filter((r) => r === 'POST /api/datasources')).toHaveLength(1);
  });

  it('deletes the dashboards, folder, data source and its service account with the stack', async () => {
    await send('Update', properties(), { OldResourceProperties: properties() });
    expect(fake.dataSources.size).toBe(1);
    const physicalId = `${fake.workspaceId}/observed-lambda`;
    const response = await send('Delete', properties(), { PhysicalResourceId: physicalId });
    expect(response.Status).toBe('SUCCESS');
    expect(response.PhysicalResourceId).toBe(physicalId);
    expect(fake.dashboards.size).toBe(0);
    expect(fake.folders.size).toBe(0);
    expect(fake.dataSources.size).toBe(0);
    expect(fake.serviceAccounts.size).toBe(0);
    expect(fake.tokens.size).toBe(0);
  });

  it('succeeds in deleting from a workspace that no longer exists', async () => {
    const props = { ...properties(), WorkspaceId: 'g-ffffffffff' };
    const response = await send('Delete', props, { PhysicalResourceId: 'g-ffffffffff/observed-lambda' });
    expect(response.Status).toBe('SUCCESS');
    expect(response.PhysicalResourceId).toBe('g-ffffffffff/observed-lambda');
  });
});
