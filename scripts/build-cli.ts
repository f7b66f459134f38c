/**
 * Builds the `observed-lambda` command line into one file,
 * dist/cli/observed-lambda.js (the package's "bin"). It is a separate bundle
 * from the extension: it carries the AWS SDK's AMP client, which the layer
 * must not.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { NODE_EXECUTABLE } from './node-bundle.js';

const root = join(__dirname, '..');
export const CLI_FILE = join(root, 'dist', 'cli', 'observed-lambda.js');

export async function buildCli(): Promise<string> {
  mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
  await build({
    entryPoints: [join(root, 'cli-src', 'main.ts')],
    outfile: CLI_FILE,
    ...NODE_EXECUTABLE,
  });
  chmodSync(CLI_FILE, 0o755);
  return CLI_FILE;
}

if (require.main === module) {
  buildCli().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
