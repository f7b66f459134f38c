/**
 * `npm run test:portable`: the suites that run the extension in the sandbox, against the layer for
 * runtimes without Node.js (LLRT), with no node findable by the extensions (test/support/portable-setup.ts).
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// Spread rather than mergeConfig: merging would add these files to the base include (the whole suite).
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/extension/e2e.test.ts',
      'test/extension/no-platform.test.ts',
      'test/extension/aws/secrets.test.ts',
      'test/extension/portable-layer.test.ts',
      'test/extension/platform/sandbox-platform.test.ts',
      'test/extension/platform/sandbox-prometheus.test.ts',
      'test/extension/platform/sandbox-trace.test.ts',
      'test/constructs/dashboards-prometheus.test.ts',
      'test/reliability/faults.test.ts',
      'test/reliability/scale.test.ts',
    ],
    setupFiles: ['test/support/portable-setup.ts'],
  },
});
