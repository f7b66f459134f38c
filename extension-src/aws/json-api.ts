/**
 * One call to an AWS service speaking the AWS JSON 1.1 protocol (Secrets
 * Manager, SSM): a signed POST to the service root with `X-Amz-Target`, a JSON
 * body, and errors as `{"__type": "...", "message": "..."}`. Written on
 * node:http(s) and the SigV4 signer already in the bundle, so the extension
 * carries no AWS SDK client.
 */

import { httpSend } from '../exporters/http.js';
import { type AwsCredentials, credentialsFromEnv } from './credentials.js';
import { RequestSigner } from './sigv4.js';

export interface JsonApiCall {
  /** SigV4 service name, e.g. "secretsmanager", "ssm". */
  readonly service: string;
  readonly region: string;
  /** `X-Amz-Target`, e.g. "secretsmanager.GetSecretValue". */
  readonly target: string;
  readonly body: unknown;
  readonly endpoint: URL;
  readonly timeoutMs: number;
  readonly credentials?: () => AwsCredentials | undefined;
}

/** An AWS error answer (or a failure to get one), with the AWS error code when there is one. */
export class AwsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The error code of a JSON protocol answer: `__type` (possibly "namespace#Code") or the x-amzn-errortype header. */
function errorCode(type: unknown, header: string | string[] | undefined): string | undefined {
  const raw = typeof type === 'string' ? type : Array.isArray(header) ? header[0] : header;
  if (!raw) return undefined;
  const afterHash = raw.slice(raw.lastIndexOf('#') + 1);
  return afterHash.split(':')[0] || undefined;
}

export async function callJsonApi<T>(call: JsonApiCall): Promise<T> {
  const body = Buffer.from(JSON.stringify(call.body));
  const signer = new RequestSigner(call.service, call.region, call.credentials ?? (() => credentialsFromEnv()));
  let headers: Record<string, string>;
  try {
    headers = await signer.sign({
      method: 'POST',
      url: call.endpoint,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': call.target },
      body,
    });
  } catch (error) {
    throw new AwsApiError('MissingCredentials', (error as Error).message);
  }
  let response: Awaited<ReturnType<typeof httpSend>>;
  try {
    response = await httpSend({ url: call.endpoint, headers, body, timeoutMs: call.timeoutMs });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new AwsApiError(e.code ?? 'NetworkError', e.message);
  }
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  if (response.status >= 200 && response.status < 300) {
    if (!parsed) throw new AwsApiError('InvalidResponse', `HTTP ${response.status} with a body that is not JSON`);
    return parsed as T;
  }
  const code = errorCode(parsed?.__type, response.headers['x-amzn-errortype']) ?? `HTTP${response.status}`;
  const message = String(parsed?.message ?? parsed?.Message ?? '').slice(0, 200);
  throw new AwsApiError(code, message, response.status);
}

/** The endpoint of a service: the standard AWS SDK override variables first, then the regional default. */
export function serviceEndpoint(
  serviceId: 'SECRETS_MANAGER' | 'SSM',
  hostPrefix: string,
  region: string,
  partition: string,
  env: NodeJS.ProcessEnv = process.env,
): URL {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    const configured = env[`AWS_ENDPOINT_URL_${serviceId}`] || env.AWS_ENDPOINT_URL;
    if (configured) return new URL(configured);
  }
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(`https://${hostPrefix}.${region}.${suffix}/`);
}
