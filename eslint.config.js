// ESLint flat config. Two jobs: keep the dependency graph honest (no import cycles, the
// layering rules below) and catch the few correctness slips the compiler lets through.
// Formatting is Prettier's alone (eslint-config-prettier switches off every style rule).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import prettier from 'eslint-config-prettier';

/** Layering: who may not import whom (paths relative to the repository root). */
const layers = [
  {
    // Modules hold the domain. They never reach up into the composition root, the request
    // contexts or the transports.
    target: './src/modules',
    from: ['./src/app.ts', './src/main.ts', './src/worker.ts', './src/http', './src/ws', './src/wiring'],
    message: 'modules never import the composition root, HTTP or WebSocket code',
  },
  {
    // Infrastructure adapters are generic: they know nothing of the domain.
    target: [
      './src/db',
      './src/redis',
      './src/pubsub',
      './src/cache',
      './src/queue',
      './src/outbox',
      './src/mail',
      './src/throttle',
      './src/logging',
      './src/observability',
      './src/config',
      './src/util',
    ],
    from: './src/modules',
    message: 'infrastructure never imports modules',
  },
  {
    // Auth, errors, the GraphQL toolkit and the transports serve every module and know none:
    // the composition root (app.ts, wiring/) connects them.
    target: ['./src/auth', './src/errors', './src/graphql', './src/http', './src/ws'],
    from: './src/modules',
    message: 'auth, errors, graphql/, http/ and ws/ never import modules',
  },
];

/**
 * Module dependencies point one way: a module may import modules on earlier lines only, never
 * one on its own line or a later one. A field that crosses modules lives in the module that
 * depends on the other (`Course.lessons` in lessons/), so this holds without contortions.
 */
const moduleOrder = [
  ['users'],
  ['courses', 'accounts'],
  ['lessons', 'enrollments'],
  ['progress'],
  ['notifications'],
  ['platform'],
];
for (const [i, line] of moduleOrder.entries()) {
  const laterOrSame = moduleOrder.slice(i).flat();
  for (const name of line) {
    const from = laterOrSame.filter((other) => other !== name).map((other) => `./src/modules/${other}`);
    if (from.length === 0) continue; // the last line may import every other module
    layers.push({
      target: `./src/modules/${name}`,
      from,
      message: `module dependencies point one way: ${moduleOrder.map((l) => l.join(' | ')).join(' ← ')}`,
    });
  }
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'data/**',
      'bench/results/**',
      'drizzle/**',
      'examples/generated/**',
      '**/__generated__/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // Runtime cycles only: `import type` is erased and cannot create one.
      'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: false }],
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The drizzle-kit schema barrel (drizzle.config.ts points at it) must name every table, and
    // the tables live with their modules: it alone is infrastructure that imports modules. It
    // imports table files only, which import nothing but other tables and db/columns.
    files: ['src/db/schema.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layers.filter((zone) => zone.from !== './src/modules') }],
    },
  },
  {
    // One vocabulary for writes: SQL lives in repositories. Outside `*.repository.ts`, the
    // tables (`*.table.ts`) and the db layer (`src/db/`), no file may import Drizzle's query
    // operators or builders (`import type` stays allowed: a `SQL` or column type is not a
    // query). Commands open transactions and hand the `tx` to repository functions.
    // Exceptions, each infrastructure that owns its SQL the way a repository does:
    //   src/graphql/pagination.ts   keyset fragments (`(col, id) > (...)`) repositories splice in
    //   src/outbox/*.ts             the transactional outbox's own table (append, relay, purge)
    //   src/seed/*.ts               the demo seed, a development script's bulk inserts
    // (The resolvers' stricter rule below replaces this one for `*.resolver.ts`.)
    files: ['src/**/*.ts'],
    ignores: [
      'src/**/*.repository.ts',
      'src/**/*.table.ts',
      'src/db/**',
      'src/graphql/pagination.ts',
      'src/outbox/**',
      'src/seed/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'drizzle-orm', allowTypeImports: true, message: 'SQL lives in repositories (*.repository.ts)' },
          ],
          patterns: [
            {
              group: ['drizzle-orm/*'],
              allowTypeImports: true,
              message: 'SQL lives in repositories (*.repository.ts)',
            },
          ],
        },
      ],
    },
  },
  {
    // Resolvers stay thin: no Drizzle and no database client.
    files: ['src/**/*.resolver.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'drizzle-orm', message: 'resolvers call services; SQL lives in repositories' }],
          patterns: [
            { group: ['drizzle-orm/*'], message: 'resolvers call services; SQL lives in repositories' },
            { group: ['**/db/client.js'], message: 'resolvers never touch the database client' },
          ],
        },
      ],
    },
  },
  prettier,
);
