/**
 * AWS credentials of the Lambda execution environment. Lambda puts the
 * function role's temporary credentials in the environment of the runtime and
 * of every extension (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN); they are read at each use so a refreshed environment is
 * picked up.
 */
import type { Env } from '../env/reader.js';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return { accessKeyId, secretAccessKey, sessionToken };
}

/** The region of the environment (Lambda sets AWS_REGION; AWS_DEFAULT_REGION is the CLI's fallback). */
export function regionFromEnv(env: Env = process.env): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}
