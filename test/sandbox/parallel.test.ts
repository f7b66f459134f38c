import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../sandbox/index.js';
import { CJS_CODE, EnvironmentPool, readRecords, TEST_LAYER, tempDir } from './helpers.js';

const pool = new EnvironmentPool();
const tmp = tempDir();
afterAll(async () => {
  await pool.shutdownAll();
  tmp.cleanup();
});

describe('environments side by side', () => {
  it('runs two environments with their own ports, processes and event streams', async () => {
    const files = [join(tmp.dir, 'a.jsonl'), join(tmp.dir, 'b.jsonl')];
    const [a, b] = await Promise.all(
      files.map((file, i) =>
        LambdaEnvironment.start({
          handler: 'index.handler',
          codeDir: CJS_CODE,
          layers: [TEST_LAYER],
          functionName: `fn-${i}`,
          env: { TEST_EXT_RECORD: file, TEST_EXT_WAIT_RUNTIME_DONE: '1' },
          shutdownDeadlineMs: 2000,
        }).then((env) => pool.add(env)),
      ),
    );
    expect(a.runtimeApiAddress).not.toBe(b.runtimeApiAddress);
    expect(a.receiverPort).not.toBe(b.receiverPort);
    expect(a.receiverGrpcPort).not.toBe(b.receiverGrpcPort);
    const results = await Promise.all([
      a.invoke({ who: 'a' }),
      b.invoke({ who: 'b' }),
      a.invoke({ who: 'a2' }),
      b.invoke({ who: 'b2' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success', 'success']);
    expect(results.map((r) => (r.result as { functionName: string }).functionName)).toEqual([
      'fn-0',
      'fn-1',
      'fn-0',
      'fn-1',
    ]);
    const seen = files.map((f) =>
      readRecords(f)
        .filter((r) => r.kind === 'event')
        .map((r) => (r.event as { requestId: string }).requestId),
    );
    expect(seen[0]).toEqual([results[0].requestId, results[2].requestId]);
    expect(seen[1]).toEqual([results[1].requestId, results[3].requestId]);
    const [sa, sb] = await Promise.all([a.shutdown(), b.shutdown()]);
    expect(sa.extensionsExitedInTime && sb.extensionsExitedInTime).toBe(true);
    // Shutting down again answers the same; invoking after shutdown is refused.
    expect(await a.shutdown()).toBe(sa);
    await expect(a.invoke({})).rejects.toThrow('the environment is shut down');
  });
});
