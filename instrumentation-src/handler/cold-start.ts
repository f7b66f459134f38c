/**
 * faas.coldstart: true for the first invocation an execution environment
 * serves, unless Lambda initialised it ahead of time (provisioned concurrency),
 * in which case no caller waited for the initialisation. Kept process-wide so
 * two copies of this module agree.
 */

const TAKEN = Symbol.for('observed-lambda.coldstart-taken');
type GlobalWithFlag = typeof globalThis & { [TAKEN]?: boolean };

/** True once per process, on the first call. */
export function takeColdStart(env: NodeJS.ProcessEnv = process.env): boolean {
  const g = globalThis as GlobalWithFlag;
  if (g[TAKEN]) return false;
  g[TAKEN] = true;
  return env.AWS_LAMBDA_INITIALIZATION_TYPE !== 'provisioned-concurrency';
}
