/**
 * Fails when API.md no longer matches the library: compiles with jsii, renders
 * the reference with jsii-docgen into a temporary file and compares.
 * Refresh with `npm run docs:api`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const dir = mkdtempSync(join(tmpdir(), 'observed-api-'));
try {
  execFileSync(bin('jsii'), ['--silence-warnings=reserved-word'], { cwd: root, stdio: 'inherit' });
  const fresh = join(dir, 'API.md');
  execFileSync(bin('jsii-docgen'), ['-o', fresh], { cwd: root, stdio: 'inherit' });
  const committed = readFileSync(join(root, 'API.md'), 'utf8');
  const current = readFileSync(fresh, 'utf8');
  if (committed !== current) {
    const a = committed.split('\n');
    const b = current.split('\n');
    const line = a.findIndex((text, i) => text !== b[i]);
    console.error(`API.md is stale (first difference at line ${line + 1}); run \`npm run docs:api\` and commit it.`);
    console.error(`  API.md:   ${a[line] ?? '<end of file>'}\n  current:  ${b[line] ?? '<end of file>'}`);
    process.exit(1);
  }
  console.log('API.md is current.');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
