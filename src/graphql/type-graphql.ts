// type-graphql needs the Reflect metadata polyfill loaded before any decorator runs. Every
// module imports type-graphql through this file, so the order can never be wrong.
import 'reflect-metadata';
import { ObjectType as typeGraphQLObjectType, type ObjectTypeOptions } from 'type-graphql';

export * from 'type-graphql';

/**
 * type-graphql's `@ObjectType`, with `simpleResolvers` on unless a type says otherwise.
 *
 * Without it every plain field (`title`, `status`, `cursor`…) gets a resolver that builds a
 * resolver-data object and runs the (empty) middleware stack just to read `source[name]`: on
 * the catalog query, about 1,400 calls per request. EduFlow uses neither type-graphql
 * middlewares nor its auth checker (authorization is the `@auth` directive, which wraps the
 * fields it guards itself), so graphql's default resolver does the same work. `@FieldResolver`
 * methods are unaffected.
 */
export function ObjectType(nameOrOptions?: string | ObjectTypeOptions, options?: ObjectTypeOptions): ClassDecorator {
  if (typeof nameOrOptions === 'string')
    return typeGraphQLObjectType(nameOrOptions, { simpleResolvers: true, ...options });
  return typeGraphQLObjectType({ simpleResolvers: true, ...nameOrOptions });
}
