import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Sandboxed Lambda environments and real Prometheus are slow to start on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end suites own processes and ports; running files one at a time keeps timing realistic.
    fileParallelism: false,
    pool: 'forks',
  },
});
