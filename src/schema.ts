import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  GraphQLInterfaceType,
  GraphQLUnionType,
  lexicographicSortSchema,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { buildSchema, type ContainerType, type PubSub, type ResolverData } from './graphql/type-graphql.js';
import type { GraphQLContext } from './context.js';
import type { CourseRow } from './db/schema.js';
import type { PageArgs } from './graphql/relay.types.js';
import { CourseResolver } from './modules/courses/course.resolver.js';
import type { CourseFilter, CourseOrder } from './modules/courses/course.type.js';
import { CourseLessonsResolver } from './modules/lessons/course-lessons.resolver.js';
import type { LessonPageArgs } from './modules/lessons/lesson.type.js';
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
  const built = await buildSchema({
    resolvers: [...resolverClasses],
    container,
    // type-graphql insists on a PubSub even when every subscription brings its own
    // `subscribe` (ours all do: none declares `topics`), so it gets one that is never used.
    pubSub: NO_PUBSUB,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTime }],
  });
  const schema = container ? withDirectCalls(built, container) : built;
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
 * The catalog's hot resolvers called straight rather than through type-graphql's handler,
 * which rebuilds every call's parameters from its metadata (a sort, a map, the arguments
 * copied into an instance of their `@ArgsType` class): on the catalog query that was about a
 * twentieth of the CPU. EduFlow uses none of type-graphql's middlewares nor its auth checker
 * (see graphql/type-graphql.ts), so the call is the same; the methods read their arguments,
 * never their class. Everything that wraps resolvers (`@auth`, cache tags, the input guard)
 * is applied after this, so it wraps these too.
 */
function withDirectCalls(schema: GraphQLSchema, container: ContainerType): GraphQLSchema {
  const instance = <T>(cls: new (...args: never[]) => T) => container.get(cls, NO_RESOLVER_DATA) as T;
  const courses = instance(CourseResolver);
  const lessons = instance(CourseLessonsResolver);
  type Resolve = GraphQLFieldResolver<unknown, GraphQLContext, Record<string, unknown>>;
  const direct: Record<string, Record<string, Resolve>> = {
    Query: {
      courses: (_root, args, ctx, info) =>
        courses.courses(
          args as PageArgs,
          args.filter as CourseFilter | null,
          args.orderBy as CourseOrder | null,
          ctx,
          info,
        ),
    },
    Course: {
      instructor: (root, _args, ctx) => courses.instructor(root as CourseRow, ctx),
      lessons: (root, args, ctx, info) => lessons.lessons(root as CourseRow, args as LessonPageArgs, ctx, info),
    },
  };
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const resolve = direct[typeName]?.[fieldName];
      return resolve ? { ...field, resolve } : field;
    },
  });
}

// Our container hands out one instance per class, whatever the call.
const NO_RESOLVER_DATA = {} as ResolverData;

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
