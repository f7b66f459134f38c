/**
 * Builds the custom resource handlers the constructs deploy:
 * dist/custom-resources/<name>/index.js, one readable CommonJS file each. The
 * AWS SDK for JavaScript v3 is provided by the Lambda Node.js runtimes, so it
 * stays out of the bundle.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..');
const HANDLERS = ['grafana'];

async function main(): Promise<void> {
  for (const name of HANDLERS) {
    const outDir = join(root, 'dist', 'custom-resources', name);
    rmSync(outDir, { recursive: true, force: true });
    await build({
      entryPoints: [join(root, 'custom-resources-src', name, 'index.ts')],
      outfile: join(outDir, 'index.js'),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['@aws-sdk/*'],
      legalComments: 'none',
      logLevel: 'warning',
    });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
