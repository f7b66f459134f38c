/**
 * The extension on its default ports, as every real function uses it: no OBSERVED_RECEIVER_PORT, and the
 * function's SDK on its default endpoint (http://localhost:4318). Two environments at once, each in a network
 * namespace of its own (its own loopback), so both take 4318 and 4317 without colliding.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { namespacesUnavailable, runInNamespaces } from '../rie/namespace.js';
import { removeTestLayer, testLayer } from '../support/extension-layer.js';

const why = namespacesUnavailable();
if (why) {
  if (process.env.CI === 'true') throw new Error(`CI requires it: ${why}`);
  console.warn(`SKIPPING: ${why}`);
}

interface Run {
  statuses: string[];
  produced: string[];
  arrived: string[];
  traces?: { received: number; exported: number; dropped: number };
  ready?: string;
  variables: string[];
}

describe.skipIf(why)('sandbox on the default receiver ports', () => {
  afterAll(() => removeTestLayer());

  it('two environments side by side, each on 4318 and 4317 of its own loopback, lose nothing', async () => {
    const { layerDir } = await testLayer();
    const runs = await Promise.all(
      [1, 2].map(() =>
        runInNamespaces<Run>(join(__dirname, 'default-ports-run.ts'), { OBSERVED_TEST_LAYER: layerDir }),
      ),
    );
    for (const run of runs) {
      expect(run.statuses).toEqual(['success', 'success', 'success']);
      expect(run.variables).toEqual([]);
      expect(run.ready).toBe('4318');
      expect(run.produced).toHaveLength(6);
      // Each of the function's spans exactly once (the platform's spans arrive beside them).
      expect(run.produced.map((id) => run.arrived.filter((a) => a === id).length)).toEqual(Array(6).fill(1));
      expect(run.traces?.exported).toBe(run.traces?.received);
      expect(run.traces?.dropped).toBe(0);
    }
  });
});
