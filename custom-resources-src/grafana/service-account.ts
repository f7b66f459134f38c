/**
 * A short-lived Grafana service account token from the Amazon Managed
 * Grafana API: one admin service account per workspace, kept between
 * deployments, and a token that lives a few minutes and is deleted as soon as
 * the provisioning is done.
 */
import {
  ConflictException,
  CreateWorkspaceServiceAccountCommand,
  CreateWorkspaceServiceAccountTokenCommand,
  DeleteWorkspaceServiceAccountCommand,
  DeleteWorkspaceServiceAccountTokenCommand,
  type GrafanaClient,
  ListWorkspaceServiceAccountsCommand,
} from '@aws-sdk/client-grafana';

export const SERVICE_ACCOUNT_NAME = 'observed-lambda-provisioner';
/** Long enough for a provisioning run (the function times out after 5 minutes), short enough to be harmless. */
export const TOKEN_SECONDS_TO_LIVE = 600;

export async function findServiceAccount(client: GrafanaClient, workspaceId: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListWorkspaceServiceAccountsCommand({ workspaceId, nextToken }));
    const found = page.serviceAccounts?.find((account) => account.name === SERVICE_ACCOUNT_NAME);
    if (found?.id) return found.id;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

export async function ensureServiceAccount(client: GrafanaClient, workspaceId: string): Promise<string> {
  try {
    const created = await client.send(
      new CreateWorkspaceServiceAccountCommand({ workspaceId, name: SERVICE_ACCOUNT_NAME, grafanaRole: 'ADMIN' }),
    );
    if (!created.id) throw new Error('CreateWorkspaceServiceAccount returned no id');
    return created.id;
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
    const id = await findServiceAccount(client, workspaceId);
    if (id === undefined) throw new Error(`service account ${SERVICE_ACCOUNT_NAME} exists but is not listed`);
    return id;
  }
}

/** Runs `work` with a fresh token and deletes the token afterwards, whatever happens. */
export async function withToken<T>(
  client: GrafanaClient,
  workspaceId: string,
  serviceAccountId: string,
  work: (token: string) => Promise<T>,
): Promise<T> {
  const created = await client.send(
    new CreateWorkspaceServiceAccountTokenCommand({
      workspaceId,
      serviceAccountId,
      name: `observed-lambda-${Date.now()}`,
      secondsToLive: TOKEN_SECONDS_TO_LIVE,
    }),
  );
  const token = created.serviceAccountToken;
  if (!token?.key || !token.id) throw new Error('CreateWorkspaceServiceAccountToken returned no token');
  try {
    return await work(token.key);
  } finally {
    await client
      .send(new DeleteWorkspaceServiceAccountTokenCommand({ workspaceId, serviceAccountId, tokenId: token.id }))
      .catch((error: unknown) => console.warn(`could not delete token ${token.id}: ${(error as Error).message}`));
  }
}

export async function deleteServiceAccount(client: GrafanaClient, workspaceId: string, id: string): Promise<void> {
  await client.send(new DeleteWorkspaceServiceAccountCommand({ workspaceId, serviceAccountId: id }));
}
