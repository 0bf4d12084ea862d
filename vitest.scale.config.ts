import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:scale`: the scale-out tests (test/scale) and, against a real Redis Cluster
 * started by the global setup, the suites that exercise every Redis use end to end (the
 * notification path, the response cache and its invalidation across two processes, live
 * delivery). Kept out of `npm test`: they start many processes. Files run one at a time so
 * a CROSSSLOT is pinned on the file that caused it.
 */
const onCluster = [
  'test/integration/notifications.test.ts',
  'test/integration/response-cache.test.ts',
  'test/integration/response-store.test.ts',
  'test/integration/live-lessons.test.ts',
];

export default defineConfig({
  resolve: base.resolve,
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'scale',
          include: ['test/scale/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: onCluster,
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/scale-setup.ts'],
        },
      },
      {
        // Live delivery and the notification path again, with sharded pub/sub.
        extends: true,
        test: {
          name: 'cluster-sharded',
          include: ['test/integration/notifications.test.ts', 'test/integration/live-lessons.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/scale-setup.ts'],
          env: { TEST_SHARDED_PUBSUB: 'true' },
        },
      },
    ],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
