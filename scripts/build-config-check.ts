/**
 * Builds dist/config-check/index.js: the extension's own configuration loader
 * (extension-src/config), bundled for the constructs, which feed it the
 * environment they write at synth so a setting the extension would refuse
 * fails the synth instead (same rules, one implementation).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..');

async function main(): Promise<void> {
  const outDir = join(root, 'dist', 'config-check');
  rmSync(outDir, { recursive: true, force: true });
  await build({
    entryPoints: [join(root, 'extension-src', 'config', 'index.ts')],
    outfile: join(outDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
