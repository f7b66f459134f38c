import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CJS_CODE, TEST_LAYER } from './helpers.js';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'sandbox', 'cli.ts');
const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

describe('sandbox command line', () => {
  it('runs a handler with a layer and prints the event log and one line per invocation', async () => {
    const { stdout } = await run(
      TSX,
      [
        CLI,
        '--handler',
        'index.handler',
        '--code',
        CJS_CODE,
        '--layer',
        TEST_LAYER,
        '--invoke',
        '{"a":1}',
        '--count',
        '2',
        '--shutdown-deadline',
        '500',
      ],
      { timeout: 30_000 },
    );
    const results = stdout.split('\n').filter((l) => l.startsWith('=> '));
    expect(results).toHaveLength(2);
    expect(results[0]).toMatch(
      /success \d+\.\d\d ms \(cold start, init \d+\.\d\d ms\) max memory \d+ MB: \{"echo":\{"a":1\}/,
    );
    expect(results[1]).not.toContain('cold start');
    for (const type of ['init.start', 'extension.register', 'platform.report', 'freeze', 'thaw', 'shutdown.done']) {
      expect(stdout).toContain(type);
    }
    expect(stdout).toMatch(/shutdown: \d+ ms, extensions exited in time: true/);
  });

  it('exits non-zero and shows the error when init fails', async () => {
    const failure = await run(TSX, [CLI, '--handler', 'index.missing', '--code', CJS_CODE], { timeout: 30_000 }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((failure as { code: number }).code).toBe(1);
    expect((failure as { stderr: string }).stderr).toContain('init failed: Runtime.HandlerNotFound');
  });
});
