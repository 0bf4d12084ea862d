import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from './graphql/type-graphql.js';
import { applyAuthDirective } from './auth/auth.directive.js';
import { NodeResolver } from './graphql/node.resolver.js';
import { DateTime } from './graphql/scalars.js';
import { courseRelationChecks, CourseResolver } from './modules/courses/index.js';
import { AccountResolver } from './modules/accounts/index.js';
import { EnrollmentResolver } from './modules/enrollments/index.js';
import { lessonRelationChecks, LessonResolver } from './modules/lessons/index.js';
import { userRelationChecks, UserResolver } from './modules/users/index.js';

export const resolverClasses = [NodeResolver, UserResolver, AccountResolver, CourseResolver, LessonResolver, EnrollmentResolver] as const;

/**
 * Builds the executable schema. Without a container (schema emission, tests of the SDL) the
 * resolvers are never instantiated, so no database is needed.
 */
export async function buildAppSchema(container?: ContainerType): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [...resolverClasses],
    container,
    validate: false,
    scalarsMap: [{ type: Date, scalar: DateTime }],
  });
  return applyAuthDirective(schema, { ...userRelationChecks, ...courseRelationChecks, ...lessonRelationChecks });
}

const HEADER = `# EduFlow GraphQL schema, emitted from the code by \`npm run schema:emit\`. Do not edit by hand:
# a test fails when this file differs from what the code emits.
`;

/** Sorted SDL with directives (graphql's printSchema drops @auth on fields). */
export function printSchemaSdl(schema: GraphQLSchema): string {
  return `${HEADER}\n${printSchemaWithDirectives(lexicographicSortSchema(schema))}\n`;
}
