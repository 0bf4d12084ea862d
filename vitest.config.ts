import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql ships CJS (index.js) and ESM (index.mjs); Node loads the CJS one for every
    // dependency, so our own imports must get the same copy or schemas fail with
    // "another module or realm".
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Two projects, both run by `npm test`; `npm run test:unit` runs the first alone. Unit
    // tests need neither Postgres nor Redis, so only the integration project has the global
    // setup that checks the services and builds the template database. The browser test has
    // its own config (vitest.browser.config.ts, `npm run test:browser`).
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
