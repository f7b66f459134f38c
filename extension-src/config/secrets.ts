/**
 * The seam for secrets: headers with API keys come from Secrets Manager or
 * SSM Parameter Store by ARN (OBSERVED_OTLP_HEADERS_SECRET_ARN), fetched once
 * at start, never from plaintext variables. A resolver returns the headers
 * (`key=value,...` or a JSON object in the secret); until one is wired in,
 * the default says once that the secret is not used.
 */
import type { Logger } from '../self/log.js';

export type SecretHeadersResolver = (arn: string) => Promise<Record<string, string>>;

export const unresolvedSecrets: SecretHeadersResolver = async (arn) => {
  throw new Error(`reading secrets (${arn}) is not available in this version of the extension`);
};

/** Resolves the headers secret if one is configured; failures are logged once and leave no extra headers. */
export async function loadSecretHeaders(
  arn: string | undefined,
  log: Logger,
  resolver: SecretHeadersResolver = unresolvedSecrets,
): Promise<Record<string, string>> {
  if (!arn) return {};
  try {
    return await resolver(arn);
  } catch (error) {
    log.warn(
      `OBSERVED_OTLP_HEADERS_SECRET_ARN: ${(error as Error).message}; OTLP requests are sent without the secret's headers`,
    );
    return {};
  }
}
