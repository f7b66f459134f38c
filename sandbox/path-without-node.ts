/**
 * A PATH on which no `node` can be found, for functions of runtimes that have none (Lambda's Python,
 * Java, .NET, Ruby and OS-only runtimes). Directories of the host's PATH that hold a node executable
 * are replaced by a directory of links to everything else in them, made once per host directory in
 * the temp directory, so the shell, `env` and the other commands stay findable.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Names that are Node.js or start it. */
const NODE_COMMANDS = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

function hasNode(dir: string): boolean {
  try {
    accessSync(join(dir, 'node'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function linksWithoutNode(dir: string): string {
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  const out = join(tmpdir(), 'observed-lambda-sandbox', `path-without-node-${hash}`);
  if (existsSync(out)) return out;
  const partial = `${out}.${process.pid}.${Date.now()}.tmp`;
  mkdirSync(partial, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (!NODE_COMMANDS.has(name)) symlinkSync(join(dir, name), join(partial, name));
  }
  try {
    renameSync(partial, out);
  } catch {
    // Another process made it first.
    rmSync(partial, { recursive: true, force: true });
  }
  return out;
}

export function pathWithoutNode(path: string): string {
  return path
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => (hasNode(dir) ? linksWithoutNode(dir) : dir))
    .join(delimiter);
}
