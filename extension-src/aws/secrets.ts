/**
 * Headers with API keys come from Secrets Manager or SSM Parameter Store by
 * ARN (OBSERVED_OTLP_HEADERS_SECRET_ARN), fetched once at start with the
 * function role's credentials, never from plaintext variables. The value holds
 * the headers as a JSON object (`{"api-key": "..."}`) or in the OTel
 * `key=value,...` form. Any failure is logged once, naming the AWS error code,
 * and the extension carries on without those headers.
 */
import type { Logger } from '../self-telemetry/log.js';

export type SecretHeadersResolver = (arn: string) => Promise<Record<string, string>>;

/** How long start-up may wait for the secret. */
export const SECRET_TIMEOUT_MS = 2_000;

const VARIABLE = 'OBSERVED_OTLP_HEADERS_SECRET_ARN';

/** A failure with the code to log (an AWS error code or one of ours); the message never holds the value. */
class SecretError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly resource: string;
}

function parseArn(arn: string): ParsedArn {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn')
    throw new SecretError('InvalidArn', 'not an ARN (arn:partition:service:region:account:resource)');
  return { partition: parts[1], service: parts[2], region: parts[3], resource: parts.slice(5).join(':') };
}

/** Headers from the secret's text: a JSON object of strings, or comma-separated percent-encoded key=value pairs. */
export function parseHeadersValue(text: string): Record<string, string> {
  const trimmed = text.trim();
  const out: Record<string, string> = {};
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SecretError('InvalidSecretValue', 'the value starts with "{" but is not valid JSON');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new SecretError('InvalidSecretValue', 'the value is not a JSON object');
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value !== 'string' && typeof value !== 'number')
        throw new SecretError('InvalidSecretValue', `the value of header "${key}" is not a string`);
      out[key.toLowerCase()] = String(value);
    }
  } else {
    const parts = trimmed.split(',');
    parts.forEach((part, index) => {
      if (part.trim() === '') return;
      const eq = part.indexOf('=');
      let key: string | undefined;
      let value: string | undefined;
      try {
        if (eq > 0) {
          key = decodeURIComponent(part.slice(0, eq).trim());
          value = decodeURIComponent(part.slice(eq + 1).trim());
        }
      } catch {
        key = undefined;
      }
      if (!key || value === undefined)
        throw new SecretError(
          'InvalidSecretValue',
          `pair ${index + 1} of ${parts.length} is not key=value (expected a JSON object or key=value,...)`,
        );
      out[key.toLowerCase()] = value;
    });
  }
  if (Object.keys(out).length === 0) throw new SecretError('InvalidSecretValue', 'the value holds no header');
  return out;
}

interface SecretValueAnswer {
  SecretString?: string;
  SecretBinary?: string;
}
interface ParameterAnswer {
  Parameter?: { Value?: string };
}

/** Reads the secret or parameter with the environment's credentials (AWS JSON API, no SDK). */
export function awsSecretsResolver(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = SECRET_TIMEOUT_MS,
): SecretHeadersResolver {
  return async (arn) => {
    const { partition, service, region: arnRegion, resource } = parseArn(arn);
    // Loaded only when a secret is configured: the signer is not on the start-up path otherwise.
    const api = await import('./json-api.js');
    const { credentialsFromEnv, regionFromEnv } = await import('./credentials.js');
    const region = arnRegion || regionFromEnv(env);
    if (!region) throw new SecretError('MissingRegion', 'no region in the ARN or AWS_REGION');
    const call = async <T>(serviceId: 'SECRETS_MANAGER' | 'SSM', signing: string, target: string, body: unknown) => {
      try {
        return await api.callJsonApi<T>({
          service: signing,
          region,
          target,
          body,
          endpoint: api.serviceEndpoint(serviceId, signing, region, partition, env),
          timeoutMs,
          credentials: () => credentialsFromEnv(env),
        });
      } catch (error) {
        if (error instanceof api.AwsApiError)
          throw new SecretError(
            error.code,
            `${target.split('.')[1]} failed${error.status ? ` (HTTP ${error.status})` : ''}${error.message ? `: ${error.message}` : ''}`,
          );
        throw error;
      }
    };
    let text: string | undefined;
    if (service === 'secretsmanager') {
      const answer = await call<SecretValueAnswer>(
        'SECRETS_MANAGER',
        'secretsmanager',
        'secretsmanager.GetSecretValue',
        {
          SecretId: arn,
        },
      );
      text =
        answer.SecretString ??
        (answer.SecretBinary ? Buffer.from(answer.SecretBinary, 'base64').toString('utf8') : undefined);
    } else if (service === 'ssm' && resource.startsWith('parameter/')) {
      const answer = await call<ParameterAnswer>('SSM', 'ssm', 'AmazonSSM.GetParameter', {
        Name: arn,
        WithDecryption: true,
      });
      text = answer.Parameter?.Value;
    } else {
      throw new SecretError('UnsupportedArn', `service "${service}" is neither secretsmanager nor ssm:...:parameter/`);
    }
    if (text === undefined) throw new SecretError('InvalidSecretValue', 'the answer holds no value');
    return parseHeadersValue(text);
  };
}

/** Resolves the headers secret if one is configured, within a bounded time; failures are logged once and leave no extra headers. */
export async function loadSecretHeaders(
  arn: string | undefined,
  log: Logger,
  resolver: SecretHeadersResolver = awsSecretsResolver(),
  timeoutMs = SECRET_TIMEOUT_MS,
): Promise<Record<string, string>> {
  if (!arn) return {};
  let timer: NodeJS.Timeout | undefined;
  try {
    const headers = await Promise.race([
      resolver(arn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new SecretError('Timeout', `no answer within ${timeoutMs} ms`)),
          timeoutMs + 100,
        );
      }),
    ]);
    log.info(`${VARIABLE}: ${Object.keys(headers).length} header(s) read from the secret`);
    return headers;
  } catch (error) {
    const code = error instanceof SecretError ? error.code : 'Error';
    log.warn(`${VARIABLE}: ${code}: ${(error as Error).message}; OTLP requests are sent without the secret's headers`);
    return {};
  } finally {
    clearTimeout(timer);
  }
}
