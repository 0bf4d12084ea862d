import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType, type PubSub } from './graphql/type-graphql.js';
import { applyAuthDirective } from './auth/auth.directive.js';
import { applyCacheControl } from './cache/cache-control.js';
import { NodeResolver } from './graphql/node.resolver.js';
import { applyInputGuard } from './graphql/input-guard.js';
import { DateTime } from './graphql/scalars.js';
import { courseRelationChecks, CourseResolver } from './modules/courses/index.js';
import { AccountResolver } from './modules/accounts/index.js';
import { EnrollmentResolver } from './modules/enrollments/index.js';
import { lessonRelationChecks, LessonResolver, LessonStatusChangeResolver } from './modules/lessons/index.js';
import { NotificationResolver, UserNotificationsResolver } from './modules/notifications/index.js';
import { PlatformResolver } from './modules/platform/index.js';
import { userRelationChecks, UserResolver } from './modules/users/index.js';

export const resolverClasses = [
  NodeResolver,
  UserResolver,
  AccountResolver,
  CourseResolver,
  LessonResolver,
  LessonStatusChangeResolver,
  EnrollmentResolver,
  NotificationResolver,
  UserNotificationsResolver,
  PlatformResolver,
] as const;

/**
 * Builds the executable schema. Without a container (schema emission, tests of the SDL) the
 * resolvers are never instantiated, so no database is needed.
 */
export async function buildAppSchema(container?: ContainerType, pubSub?: PubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolverClasses],
    container,
    // type-graphql insists on a PubSub even when every subscription brings its own
    // `subscribe`; a schema built only to print its SDL never runs one.
    pubSub: pubSub ?? NO_PUBSUB,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTime }],
  });
  // The input guard wraps outermost: no resolver, guarded or not, sees a string Postgres cannot store.
  return applyInputGuard(applyCacheControl(applyAuthDirective(schema, { ...userRelationChecks, ...courseRelationChecks, ...lessonRelationChecks })));
}

const NO_PUBSUB: PubSub = {
  publish: () => {
    throw new Error('this schema was built without a pub/sub');
  },
  subscribe: () => {
    throw new Error('this schema was built without a pub/sub');
  },
};

const HEADER = `# EduFlow GraphQL schema, emitted from the code by \`npm run schema:emit\`. Do not edit by hand:
# a test fails when this file differs from what the code emits.
`;

/** Sorted SDL with directives (graphql's printSchema drops @auth on fields). */
export function printSchemaSdl(schema: GraphQLSchema): string {
  return `${HEADER}\n${printSchemaWithDirectives(lexicographicSortSchema(schema))}\n`;
}
