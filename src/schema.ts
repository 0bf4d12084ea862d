import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { GraphQLInterfaceType, GraphQLUnionType, lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType, type PubSub } from './graphql/type-graphql.js';
import { applyAuthDirective } from './auth/auth.directive.js';
import { applyCacheControl } from './cache/cache-control.js';
import { applyInputGuard } from './graphql/input-guard.js';
import type { Typed } from './graphql/relay.types.js';
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
      applyAuthDirective(resolveTypesByTypename(schema), {
        ...userRelationChecks,
        ...courseRelationChecks,
        ...lessonRelationChecks,
      }),
    ),
  );
}

/**
 * type-graphql wraps every `resolveType` in an async function. graphql-js awaits it, but
 * graphql-jit (which runs queries, graphql/jit-executor.ts) needs the type name at once. Every
 * abstract type here resolves by the `__typename` its values carry (`Typed` in
 * graphql/relay.types.ts, set by `node`/`nodes`), which is what the decorators declare too.
 */
function resolveTypesByTypename(schema: GraphQLSchema): GraphQLSchema {
  const byTypename = (value: unknown) => (value as Partial<Typed> | null)?.__typename;
  return mapSchema(schema, {
    [MapperKind.INTERFACE_TYPE]: (type) => new GraphQLInterfaceType({ ...type.toConfig(), resolveType: byTypename }),
    [MapperKind.UNION_TYPE]: (type) => new GraphQLUnionType({ ...type.toConfig(), resolveType: byTypename }),
  });
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
