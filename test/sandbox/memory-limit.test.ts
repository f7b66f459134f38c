import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment, memoryLimitSupport } from '../../sandbox/index.js';

import { EnvironmentPool } from './helpers.js';

const HANDLER = `
const held = [];
exports.memory = async () => ({ constrained: process.constrainedMemory(), heapLimit: require('v8').getHeapStatistics().heap_size_limit });
exports.grow = async (event) => {
  // Off-heap memory, touched so it is resident: V8's own heap limit does not stop it, the environment's does.
  for (let i = 0; i < event.mb; i++) held.push(Buffer.alloc(1024 * 1024, 1));
  return { held: held.length };
};
`;

const support = memoryLimitSupport();
const pool = new EnvironmentPool();
let codeDir: string;

beforeAll(() => {
  codeDir = mkdtempSync(join(tmpdir(), 'observed-memory-limit-'));
  writeFileSync(join(codeDir, 'index.js'), HANDLER);
});
afterAll(async () => {
  await pool.shutdownAll();
  rmSync(codeDir, { recursive: true, force: true });
});

describe('sandbox memory limit (the function memory size, enforced as in Lambda)', () => {
  it('is available on CI machines (root with a cgroup memory controller)', () => {
    if (process.env.CI !== 'true') return;
    expect(support).not.toBe('none');
  });

  it.skipIf(support === 'none')(
    'gives the function processes the configured memory, which Node.js sizes its heap from',
    async () => {
      const env = pool.add(await LambdaEnvironment.start({ handler: 'index.memory', codeDir, memorySizeMb: 256 }));
      const r = await env.invoke();
      const { constrained, heapLimit } = r.result as { constrained: number; heapLimit: number };
      expect(constrained).toBe(256 * 1024 * 1024);
      // V8 derives its heap limit from the constrained memory: about the memory size, not the host's gigabytes.
      expect(heapLimit).toBeLessThan(400 * 1024 * 1024);
    },
  );

  it.skipIf(support === 'none')(
    'ends an invocation that goes over the memory size with Runtime.OutOfMemory, then starts cold',
    async () => {
      const env = pool.add(await LambdaEnvironment.start({ handler: 'index.grow', codeDir, memorySizeMb: 128 }));
      const small = await env.invoke({ mb: 8 });
      expect(small.status).toBe('success');
      const over = await env.invoke({ mb: 400 });
      expect(over.status).toBe('failure');
      expect(over.error).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
      const next = await env.invoke({ mb: 1 });
      expect(next.status).toBe('success');
      expect(next.coldStart).toBe(true);
      expect(next.result).toEqual({ held: 1 });
    },
  );

  it('runs without a limit when asked (memoryLimit: false)', async () => {
    const env = pool.add(
      await LambdaEnvironment.start({ handler: 'index.memory', codeDir, memorySizeMb: 256, memoryLimit: false }),
    );
    const r = await env.invoke();
    expect((r.result as { constrained: number }).constrained).toBeGreaterThan(256 * 1024 * 1024);
  });
});
