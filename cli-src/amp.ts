/**
 * Finds an Amazon Managed Service for Prometheus workspace's endpoints with
 * DescribeWorkspace (AWS SDK, default credential chain: environment, profile,
 * SSO, instance role) and hands back the credentials it used, so the remote
 * write and query requests are signed by the same identity.
 */
import { AmpClient, DescribeWorkspaceCommand, type DescribeWorkspaceCommandOutput } from '@aws-sdk/client-amp';
import type { AwsCredentials } from '../extension-src/aws/credentials.js';
import { BackendError } from './query.js';

export interface AmpWorkspace {
  readonly workspaceId: string;
  readonly region: string;
  /** The workspace's Prometheus-compatible base URL, ending in "/". */
  readonly prometheusEndpoint: URL;
  readonly remoteWriteUrl: URL;
  readonly credentials: AwsCredentials;
}

/** AMP's documented workspace id pattern (DescribeWorkspace rejects anything else). */
const WORKSPACE_ID = /^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$/;

export async function describeWorkspace(workspaceId: string, region: string, endpoint?: string): Promise<AmpWorkspace> {
  if (!WORKSPACE_ID.test(workspaceId)) {
    throw new BackendError(`"${workspaceId}" is not an AMP workspace id (they look like ws-12345678-abcd-...)`);
  }
  const client = new AmpClient({ region, endpoint, maxAttempts: 2 });
  try {
    let credentials: AwsCredentials;
    try {
      const resolved = await client.config.credentials();
      credentials = {
        accessKeyId: resolved.accessKeyId,
        secretAccessKey: resolved.secretAccessKey,
        sessionToken: resolved.sessionToken,
      };
    } catch (error) {
      throw new BackendError(
        `no AWS credentials found (${(error as Error).message}); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      );
    }
    let out: DescribeWorkspaceCommandOutput;
    try {
      out = await client.send(new DescribeWorkspaceCommand({ workspaceId }));
    } catch (error) {
      throw new BackendError(describeError(error, workspaceId, region, endpoint));
    }
    const status = out.workspace?.status?.statusCode;
    const raw = out.workspace?.prometheusEndpoint;
    if (!raw) throw new BackendError(`AMP workspace ${workspaceId} has no prometheusEndpoint (status ${status})`);
    if (status !== 'ACTIVE' && status !== 'UPDATING') {
      throw new BackendError(`AMP workspace ${workspaceId} is ${status}; it takes metrics only when ACTIVE`);
    }
    const prometheusEndpoint = new URL(raw.endsWith('/') ? raw : `${raw}/`);
    return {
      workspaceId,
      region,
      prometheusEndpoint,
      remoteWriteUrl: new URL('api/v1/remote_write', prometheusEndpoint),
      credentials,
    };
  } finally {
    client.destroy();
  }
}

function describeError(error: unknown, workspaceId: string, region: string, endpoint?: string): string {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  switch (e.name) {
    case 'ResourceNotFoundException':
      return `there is no AMP workspace ${workspaceId} in ${region} (check the id and --region)`;
    case 'AccessDeniedException':
      return `access denied to AMP workspace ${workspaceId}: the credentials need aps:DescribeWorkspace (${e.message})`;
    case 'ValidationException':
      return `AMP refused the workspace id ${workspaceId}: ${e.message}`;
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return `AMP refused the credentials (${e.name}): ${e.message}`;
  }
  const network = e.code ?? (e.message && /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EAI_AGAIN/.exec(e.message)?.[0]);
  if (network) return `cannot reach the AMP API${endpoint ? ` at ${endpoint}` : ` in ${region}`}: ${network}`;
  return `DescribeWorkspace ${workspaceId} failed (${e.name ?? 'error'}${
    e.$metadata?.httpStatusCode ? `, HTTP ${e.$metadata.httpStatusCode}` : ''
  }): ${e.message}`;
}
