import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed operations for front-ends (`npm run codegen`): GraphQL Code Generator's client preset
 * over the example operations, against the checked-in schema.graphql. The output is committed
 * and compiled by `tsc` in `npm test` (a schema change that breaks these operations fails CI);
 * test/integration/codegen.test.ts checks that it is up to date.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['examples/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  // Imports with .js extensions, as NodeNext module resolution requires.
  emitLegacyCommonJSImports: false,
  generates: {
    'examples/generated/': {
      preset: 'client',
      config: {
        // DateTime travels as an ISO-8601 string.
        scalars: { DateTime: 'string' },
        useTypeImports: true,
        enumsAsTypes: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
