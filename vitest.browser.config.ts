import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:browser`: the explorer in headless Chromium (Debian's `chromium` package).
 * Kept out of `npm test` so that a machine without a browser still passes it; `.ci/run`
 * installs chromium and runs both. It starts a real API, so it has the integration project's
 * global setup (services checked, template database built); not the base config's projects,
 * which would run the whole suite again.
 */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
