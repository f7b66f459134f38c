/**
 * The Node.js binary that runs the function: the sandbox's own by default, or
 * another installed version (scripts/install-node-runtimes.sh puts Node.js 22
 * and 24 in .tmp/node-runtimes/), as Lambda's nodejs22.x and nodejs24.x
 * runtimes run /var/lang/bin/node of their version.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export interface NodeBinary {
  /** Absolute path of the executable. */
  readonly path: string;
  /** `22.23.3` */
  readonly version: string;
  readonly major: number;
  readonly minor: number;
}

const known = new Map<string, NodeBinary>();

function describe(path: string, version: string): NodeBinary {
  const [major, minor] = version.split('.').map(Number);
  return { path, version, major, minor };
}

/** The binary's version, asked once per path and process (the default one is not asked at all). */
export function nodeBinary(path: string = process.execPath): NodeBinary {
  const absolute = resolve(path);
  let info = known.get(absolute);
  if (info) return info;
  if (absolute === process.execPath) {
    info = describe(absolute, process.versions.node);
  } else {
    let printed: string;
    try {
      printed = execFileSync(absolute, ['--version'], { encoding: 'utf8', timeout: 10_000, env: {} }).trim();
    } catch (error) {
      throw new Error(`nodeBinary ${absolute} does not run: ${(error as Error).message.split('\n')[0]}`);
    }
    if (!/^v\d+\.\d+\.\d+/.test(printed)) throw new Error(`nodeBinary ${absolute} is not Node.js (prints ${printed})`);
    info = describe(absolute, printed.slice(1));
  }
  known.set(absolute, info);
  return info;
}
