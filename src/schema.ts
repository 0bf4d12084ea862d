import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType, type PubSub } from './graphql/type-graphql.js';
import { applyAuthDirective } from './auth/auth.directive.js';
import { applyCacheControl } from './cache/cache-control.js';
import { applyInputGuard } from './graphql/input-guard.js';
import { DateTime } from './graphql/scalars.js';
import { courseRelationChecks } from './modules/courses/index.js';
import { lessonRelationChecks } from './modules/lessons/index.js';
import { userRelationChecks } from './modules/users/index.js';
import { resolverClasses } from './resolvers.js';

/**
 * Builds the executable schema. Without a container (schema emission, tests of the SDL) the
 * resolvers are never instantiated, so no database is needed.
 */
export async function buildAppSchema(container?: ContainerType): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolverClasses],
    container,
    // type-graphql insists on a PubSub even when every subscription brings its own
    // `subscribe` (ours all do: none declares `topics`), so it gets one that is never used.
    pubSub: NO_PUBSUB,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTime }],
  });
  // The input guard wraps outermost: no resolver, guarded or not, sees a string Postgres cannot store.
  return applyInputGuard(
    applyCacheControl(
      applyAuthDirective(schema, { ...userRelationChecks, ...courseRelationChecks, ...lessonRelationChecks }),
    ),
  );
}

const NO_PUBSUB: PubSub = {
  publish: () => {
    throw new Error('no subscription uses type-graphql topics');
  },
  subscribe: () => {
    throw new Error('no subscription uses type-graphql topics');
  },
};

const HEADER = `# EduFlow GraphQL schema, emitted from the code by \`npm run schema:emit\`. Do not edit by hand:
# a test fails when this file differs from what the code emits.
`;

/** Sorted SDL with directives (graphql's printSchema drops @auth on fields). */
export function printSchemaSdl(schema: GraphQLSchema): string {
  return `${HEADER}\n${printSchemaWithDirectives(lexicographicSortSchema(schema))}\n`;
}
