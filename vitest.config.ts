import { defineConfig } from 'vitest/config';

/**
 * Three projects: unit (no services), integration (against the lab: `npm run lab:up` first),
 * e2e (browser mode driven in Debian Chromium through playwright-core; also needs the lab for some).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          environment: 'node',
          // Argon2 key operations run in a throwaway worker (pgp/key-worker.ts): up to ~4 s per test
          // when idle, more while the files run side by side on 2 cores.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
