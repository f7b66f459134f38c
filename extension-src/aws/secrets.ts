/**
 * Credentials come from Secrets Manager or SSM Parameter Store by ARN
 * (`OBSERVED_<DESTINATION>_HEADERS_SECRET_ARN`, `_BEARER_TOKEN_SECRET_ARN`,
 * `_BASIC_AUTH_SECRET_ARN`), fetched once at start with the function role's
 * credentials, never from plaintext variables, and become request headers:
 * - headers: a JSON object (`{"api-key": "..."}`) or the OTel `key=value,...` form;
 * - bearer token: the token itself, sent as `authorization: Bearer <token>`;
 * - basic auth: `{"username": "...", "password": "..."}` (the shape of a
 *   Secrets Manager database secret) or `username:password`, sent as
 *   `authorization: Basic ...`.
 * Any failure is logged once, naming the variable and the AWS error code
 * (never the value), and the extension carries on without those headers.
 */
import type { ConfigReader } from '../env/reader.js';
import type { Logger } from '../self-telemetry/log.js';

/** Reads the text of a secret or parameter. */
export type SecretTextResolver = (arn: string) => Promise<string>;

/** What a secret's value holds. */
export type SecretForm = 'headers' | 'bearer-token' | 'basic-auth';

/** A secret to read at start, the variable that named it and what it holds. */
export interface SecretSource {
  readonly variable: string;
  readonly arn: string;
  readonly form: SecretForm;
}

const FORM_SUFFIX: Record<SecretForm, string> = {
  headers: 'HEADERS_SECRET_ARN',
  'bearer-token': 'BEARER_TOKEN_SECRET_ARN',
  'basic-auth': 'BASIC_AUTH_SECRET_ARN',
};

/**
 * The secrets `<prefix>_<FORM>_SECRET_ARN` names for each of `forms`; a value that is not a Secrets Manager
 * or SSM parameter ARN is a warning and is left out.
 */
export function readSecretSources(reader: ConfigReader, prefix: string, forms: readonly SecretForm[]): SecretSource[] {
  const sources: SecretSource[] = [];
  for (const form of forms) {
    const variable = `${prefix}_${FORM_SUFFIX[form]}`;
    const arn = reader.raw(variable);
    if (arn === undefined) continue;
    if (!/^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]*:\d{12}:secret:|ssm:[a-z0-9-]*:\d{12}:parameter\/)/.test(arn)) {
      reader.warn(variable, arn, 'the ARN of a Secrets Manager secret or an SSM parameter', 'ignored');
      continue;
    }
    sources.push({ variable, arn, form });
  }
  return sources;
}

/** How long start-up may wait for the secret. */
export const SECRET_TIMEOUT_MS = 2_000;

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
): SecretTextResolver {
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
    return text;
  };
}

/** The headers a secret's text stands for. */
export function headersFromSecret(form: SecretForm, text: string): Record<string, string> {
  if (form === 'headers') return parseHeadersValue(text);
  const trimmed = text.trim();
  if (form === 'bearer-token') {
    if (trimmed === '' || /\s/.test(trimmed))
      throw new SecretError('InvalidSecretValue', 'a bearer token is one word without blanks');
    return { authorization: `Bearer ${trimmed}` };
  }
  let username: unknown;
  let password: unknown;
  if (trimmed.startsWith('{')) {
    try {
      ({ username, password } = JSON.parse(trimmed) as { username?: unknown; password?: unknown });
    } catch {
      throw new SecretError('InvalidSecretValue', 'the value starts with "{" but is not valid JSON');
    }
  } else if (trimmed.includes(':')) {
    username = trimmed.slice(0, trimmed.indexOf(':'));
    password = trimmed.slice(trimmed.indexOf(':') + 1);
  }
  if (typeof username !== 'string' || username === '' || typeof password !== 'string')
    throw new SecretError(
      'InvalidSecretValue',
      'basic auth needs {"username": "...", "password": "..."} or username:password',
    );
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/**
 * Reads every secret of `sources` at once, each within a bounded time, and merges their headers in order.
 * A failure is logged once per secret (variable and error code, never the value); `without` says what is
 * sent instead, e.g. "remote write requests are sent without them".
 */
export async function loadSecretHeaders(
  sources: readonly SecretSource[],
  log: Logger,
  without: string,
  resolver: SecretTextResolver = awsSecretsResolver(),
  timeoutMs = SECRET_TIMEOUT_MS,
): Promise<Record<string, string>> {
  const sets = await Promise.all(sources.map((source) => loadOne(source, log, without, resolver, timeoutMs)));
  return Object.assign({}, ...sets);
}

async function loadOne(
  source: SecretSource,
  log: Logger,
  without: string,
  resolver: SecretTextResolver,
  timeoutMs: number,
): Promise<Record<string, string>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const text = await Promise.race([
      resolver(source.arn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new SecretError('Timeout', `no answer within ${timeoutMs} ms`)),
          timeoutMs + 100,
        );
      }),
    ]);
    const headers = headersFromSecret(source.form, text);
    log.info(`${source.variable}: ${Object.keys(headers).length} header(s) read from the secret`);
    return headers;
  } catch (error) {
    const code = error instanceof SecretError ? error.code : 'Error';
    log.warn(`${source.variable}: ${code}: ${(error as Error).message}; ${without}`);
    return {};
  } finally {
    clearTimeout(timer);
  }
}
