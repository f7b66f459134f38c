/**
 * CloudFormation custom resource (Custom::ObservedLambdaGrafana): creates the
 * Amazon Managed Service for Prometheus data source and the dashboards in an
 * Amazon Managed Grafana workspace, updates them with the stack, and removes
 * them (and its service account) when the resource is deleted.
 */
import { GrafanaClient, ResourceNotFoundException } from '@aws-sdk/client-grafana';
import { type DataSourceSpec, GrafanaApi } from './grafana-api.js';
import { deleteServiceAccount, ensureServiceAccount, findServiceAccount, withToken } from './service-account.js';

export interface ProvisioningProperties {
  readonly WorkspaceId: string;
  readonly GrafanaUrl: string;
  readonly DataSource: { Uid: string; Name: string; Url: string; Region: string };
  readonly Folder: { Uid: string; Title: string };
  /** Dashboard JSON models, one string each. */
  readonly Dashboards: string[];
}

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ProvisioningProperties & { ServiceToken?: string };
  readonly OldResourceProperties?: ProvisioningProperties;
}

interface Outcome {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly reason?: string;
  readonly data?: Record<string, string>;
}

function dashboardUids(props: ProvisioningProperties | undefined): string[] {
  return (props?.Dashboards ?? []).map((json) => (JSON.parse(json) as { uid: string }).uid);
}

function dataSource(props: ProvisioningProperties): DataSourceSpec {
  return {
    uid: props.DataSource.Uid,
    name: props.DataSource.Name,
    url: props.DataSource.Url,
    region: props.DataSource.Region,
  };
}

async function apply(client: GrafanaClient, event: CustomResourceEvent): Promise<Outcome> {
  const props = event.ResourceProperties;
  const workspaceId = props.WorkspaceId;
  if (event.RequestType === 'Delete') {
    let accountId: string | undefined;
    try {
      accountId = await findServiceAccount(client, workspaceId);
    } catch (error) {
      // The workspace is gone already: so is everything this resource made in it.
      if (error instanceof ResourceNotFoundException) return { status: 'SUCCESS' };
      throw error;
    }
    if (accountId === undefined) accountId = await ensureServiceAccount(client, workspaceId);
    await withToken(client, workspaceId, accountId, async (token) => {
      const api = new GrafanaApi(props.GrafanaUrl, token);
      for (const uid of dashboardUids(props)) await api.deleteDashboard(uid);
      await api.deleteFolder(props.Folder.Uid);
      await api.deleteDataSource(props.DataSource.Uid);
    });
    await deleteServiceAccount(client, workspaceId, accountId);
    return { status: 'SUCCESS' };
  }

  const accountId = await ensureServiceAccount(client, workspaceId);
  await withToken(client, workspaceId, accountId, async (token) => {
    const api = new GrafanaApi(props.GrafanaUrl, token);
    await api.upsertDataSource(dataSource(props));
    await api.ensureFolder(props.Folder.Uid, props.Folder.Title);
    for (const json of props.Dashboards) {
      await api.saveDashboard(JSON.parse(json) as Record<string, unknown>, props.Folder.Uid);
    }
    if (event.RequestType === 'Update') {
      const current = new Set(dashboardUids(props));
      for (const uid of dashboardUids(event.OldResourceProperties)) {
        if (!current.has(uid)) await api.deleteDashboard(uid);
      }
      const old = event.OldResourceProperties;
      if (old && old.DataSource.Uid !== props.DataSource.Uid) await api.deleteDataSource(old.DataSource.Uid);
    }
  });
  return { status: 'SUCCESS', data: { DataSourceUid: props.DataSource.Uid, FolderUid: props.Folder.Uid } };
}

/** Sends the outcome to CloudFormation's pre-signed response URL. */
async function respond(event: CustomResourceEvent, physicalId: string, outcome: Outcome): Promise<void> {
  const body = JSON.stringify({
    Status: outcome.status,
    Reason: (outcome.reason ?? 'OK').slice(0, 1000),
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: outcome.data ?? {},
  });
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(event.ResponseURL, {
        method: 'PUT',
        // The pre-signed URL is signed for an empty content type.
        headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return;
      throw new Error(`response URL answered ${response.status}`);
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt));
    }
  }
}

export async function handler(event: CustomResourceEvent): Promise<void> {
  const physicalId = `${event.ResourceProperties.WorkspaceId}/observed-lambda`;
  let outcome: Outcome;
  try {
    outcome = await apply(new GrafanaClient({}), event);
  } catch (error) {
    console.error(error);
    outcome = { status: 'FAILED', reason: (error as Error).message };
  }
  // Delete answers with the id it was given; Create and Update with the workspace's (a new workspace
  // means a new id, and CloudFormation then deletes the old resource).
  await respond(event, event.RequestType === 'Delete' ? (event.PhysicalResourceId ?? physicalId) : physicalId, outcome);
}
