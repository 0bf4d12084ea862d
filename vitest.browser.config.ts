import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:browser`: the explorer in headless Chromium (Debian's `chromium` package).
 * Kept out of `npm test` so that a machine without a browser still passes it; `.ci/run`
 * installs chromium and runs both.
 */
export default defineConfig({
  resolve: base.resolve,
  test: { ...base.test, include: ['test/browser/**/*.test.ts'], exclude: ['node_modules/**'], testTimeout: 120_000 },
});
