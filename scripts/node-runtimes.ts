/**
 * Where scripts/install-node-runtimes.sh puts the Node.js versions of Lambda's current Node.js
 * runtimes, for the tests and benchmarks that run functions under them (the sandbox's nodeBinary).
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';

/** nodejs22.x and nodejs24.x. */
export const LAMBDA_NODE_MAJORS = [22, 24] as const;

export const INSTALL_HINT = 'run scripts/install-node-runtimes.sh';

export function nodeRuntimePath(major: number): string {
  return join(__dirname, '..', '.tmp', 'node-runtimes', String(major), 'bin', 'node');
}

/** The installed binary of that major version, or undefined when it is not installed. */
export function installedNodeRuntime(major: number): string | undefined {
  const path = nodeRuntimePath(major);
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}
