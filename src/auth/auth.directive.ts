import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  DirectiveLocation,
  GraphQLDirective,
  GraphQLEnumType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLSchema,
  type GraphQLFieldResolver,
} from 'graphql';
import { AppError } from '../errors/app-error.js';
import type { Role } from './role.js';
import type { RequestScope } from '../request-scope.js';

/**
 * Field-level authorization, declared in the schema and enforced in one place.
 *
 *   email: String @auth(requires: [ADMIN], allow: [SELF])
 *
 * A field with `@auth` resolves only for viewers whose role is in `requires`, or for whom one
 * of the `allow` relations holds with the parent object; with neither argument any signed-in
 * viewer may read it. Otherwise the field resolves to an error at its path — FORBIDDEN, or
 * UNAUTHENTICATED for anonymous callers of a root (Query/Mutation/Subscription) field — and
 * the rest of the response is untouched.
 *
 * Fields carry the directive through type-graphql's `@Directive('@auth(...)')`, so it is
 * printed in the emitted schema.graphql where front-end developers read it.
 */

export type AuthRelation = 'SELF' | 'COURSE_INSTRUCTOR' | 'ENROLLED_STUDENT';

type RelationCheck = (source: any, scope: RequestScope) => boolean | Promise<boolean>;
/** Per GraphQL type name: how to decide each relation for an object of that type. */
export type RelationChecks = Record<string, Partial<Record<AuthRelation, RelationCheck>>>;

/** Builds the `@auth(...)` usage string for type-graphql's `@Directive`. */
export function auth(rule: { requires?: Role[]; allow?: AuthRelation[] }): string {
  const args = [
    rule.requires?.length ? `requires: [${rule.requires.join(', ')}]` : '',
    rule.allow?.length ? `allow: [${rule.allow.join(', ')}]` : '',
  ].filter(Boolean);
  return args.length ? `@auth(${args.join(', ')})` : '@auth';
}

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

interface AuthRule {
  requires?: Role[];
  allow?: AuthRelation[];
}

/** Declares `@auth` (and its AuthRelation enum) in the schema and wraps every guarded field. */
export function applyAuthDirective(schema: GraphQLSchema, checks: RelationChecks): GraphQLSchema {
  const roleType = schema.getType('Role');
  if (!(roleType instanceof GraphQLEnumType)) throw new Error('@auth needs the Role enum in the schema');
  const relationType = new GraphQLEnumType({
    name: 'AuthRelation',
    description: 'Relations between the viewer and the object that grant access to an @auth field.',
    values: {
      SELF: { description: 'The object is the viewer (a User).' },
      COURSE_INSTRUCTOR: { description: "The viewer teaches the object's course." },
      ENROLLED_STUDENT: { description: "The viewer is actively enrolled in the object's course." },
    },
  });
  const directive = new GraphQLDirective({
    name: 'auth',
    description: 'Who may read this field: a role in `requires`, or a viewer with one of the `allow` relations.',
    locations: [DirectiveLocation.FIELD_DEFINITION],
    args: {
      requires: { type: new GraphQLList(new GraphQLNonNull(roleType)) },
      allow: { type: new GraphQLList(new GraphQLNonNull(relationType)) },
    },
  });
  const config = schema.toConfig();
  const declared = new GraphQLSchema({
    ...config,
    types: [...config.types, relationType],
    directives: [...config.directives, directive],
  });

  return mapSchema(declared, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const rule = getDirective(declared, field, 'auth')?.[0] as AuthRule | undefined;
      if (!rule) return field;
      for (const relation of rule.allow ?? []) {
        if (!checks[typeName]?.[relation]) {
          throw new Error(
            `@auth on ${typeName}.${fieldName} allows ${relation}, but no check is registered for ${typeName}`,
          );
        }
      }
      const guard = async (source: unknown, scope: RequestScope) => {
        if (!(await isAllowed(rule, checks[typeName] ?? {}, source, scope))) {
          const anonymous = scope.viewer.userId === null;
          throw anonymous && ROOT_TYPES.has(typeName)
            ? AppError.unauthenticated()
            : AppError.forbidden(`Not allowed to read ${typeName}.${fieldName}`);
        }
      };
      const resolve: GraphQLFieldResolver<unknown, RequestScope> = field.resolve ?? defaultFieldResolver;
      const wrapped = { ...field };
      wrapped.resolve = async (source, args, ctx, info) => {
        await guard(source, ctx);
        return resolve(source, args, ctx, info);
      };
      if (field.subscribe) {
        const subscribe = field.subscribe;
        wrapped.subscribe = async (source, args, ctx, info) => {
          await guard(source, ctx);
          return subscribe(source, args, ctx, info);
        };
      }
      return wrapped;
    },
  });
}

async function isAllowed(
  rule: AuthRule,
  checks: Partial<Record<AuthRelation, RelationCheck>>,
  source: unknown,
  scope: RequestScope,
): Promise<boolean> {
  const { viewer } = scope;
  const requires = rule.requires ?? [];
  const allow = rule.allow ?? [];
  if (viewer.userId !== null && viewer.role !== null) {
    if (requires.length === 0 && allow.length === 0) return true;
    if (requires.includes(viewer.role)) return true;
  }
  for (const relation of allow) {
    if (await checks[relation]!(source, scope)) return true;
  }
  return false;
}
