import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import { fromGlobalId } from '../graphql/global-id.js';
import {
  DirectiveLocation,
  GraphQLBoolean,
  GraphQLDirective,
  GraphQLEnumType,
  GraphQLInt,
  GraphQLObjectType,
  GraphQLSchema,
  getNamedType,
  isAbstractType,
  isCompositeType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type SelectionSetNode,
} from 'graphql';

/**
 * Cache hints in the schema, Apollo's convention:
 *
 *   type Course @cacheControl(maxAge: 60) { ... }
 *   me: User @cacheControl(maxAge: 30, scope: PRIVATE)
 *
 * A response's policy is the smallest maxAge of every field it selects, and PRIVATE if any of
 * them is. As in Apollo Server: root fields and fields returning objects default to 0 (not
 * cacheable) unless the field or its type has a hint, `inheritMaxAge` takes the parent's,
 * scalars inherit their parent's. Two additions: every `@auth` field is PRIVATE (its output
 * depends on who asks), and the policy is computed from the document alone, once per
 * document, so nothing runs per resolver.
 */
export type CacheScope = 'PUBLIC' | 'PRIVATE';

/** Published catalog data (courses, lessons, public profiles): seconds a response may be reused. */
export const CATALOG_MAX_AGE = 60;
export interface CacheHint {
  maxAge?: number;
  scope?: CacheScope;
  inheritMaxAge?: boolean;
}
export interface CachePolicy {
  maxAge: number;
  scope: CacheScope;
}

/** The `@cacheControl(...)` usage string for type-graphql's `@Directive`. */
export function cacheControl(hint: CacheHint): string {
  const args = [
    hint.maxAge !== undefined ? `maxAge: ${hint.maxAge}` : '',
    hint.scope ? `scope: ${hint.scope}` : '',
    hint.inheritMaxAge ? 'inheritMaxAge: true' : '',
  ].filter(Boolean);
  return `@cacheControl(${args.join(', ')})`;
}

/** Declares the directive and wires tag collection (see `collectTags`). */
export function applyCacheControl(schema: GraphQLSchema): GraphQLSchema {
  const scopeType = new GraphQLEnumType({ name: 'CacheControlScope', values: { PUBLIC: {}, PRIVATE: {} } });
  const directive = new GraphQLDirective({
    name: 'cacheControl',
    description: 'How long (seconds) and for whom a response containing this may be cached.',
    locations: [
      DirectiveLocation.FIELD_DEFINITION,
      DirectiveLocation.OBJECT,
      DirectiveLocation.INTERFACE,
      DirectiveLocation.UNION,
    ],
    args: { maxAge: { type: GraphQLInt }, scope: { type: scopeType }, inheritMaxAge: { type: GraphQLBoolean } },
  });
  const config = schema.toConfig();
  const declared = new GraphQLSchema({
    ...config,
    types: [...config.types, scopeType],
    directives: [...config.directives, directive],
  });
  return mapSchema(declared, {
    [MapperKind.OBJECT_TYPE]: (type) => {
      const tagsOf = tagFunction(type);
      if (!tagsOf) return type;
      return new GraphQLObjectType({
        ...type.toConfig(),
        // graphql-js calls isTypeOf for every object it completes: the cheapest place to note
        // which entities a response contains. It always answers true (types never overlap here).
        isTypeOf: (source: unknown, ctx: { cacheTags?: Set<string> } | undefined) => {
          if (ctx?.cacheTags) for (const tag of tagsOf(source as Record<string, unknown>)) ctx.cacheTags.add(tag);
          return true;
        },
      });
    },
    // An entry point that found nothing is tagged with what it looked for: the object may
    // appear (published, enrolled in, role changed) and the cached null must go then.
    [MapperKind.ROOT_OBJECT]: (type) => {
      if (type.name !== 'Query') return type;
      const config = type.toConfig();
      for (const [name, field] of Object.entries(config.fields)) {
        const named = getNamedType(field.type);
        if (
          !(named instanceof GraphQLObjectType) ||
          !named.getInterfaces().some((i) => i.name === 'Node') ||
          !field.resolve
        )
          continue;
        const resolve = field.resolve;
        const byId = 'id' in (field.args ?? {});
        field.resolve = async (source, args, ctx: { cacheTags?: Set<string> }, info) => {
          const result = await resolve(source, args, ctx, info);
          if (result == null && ctx?.cacheTags) {
            const parsed = byId ? fromGlobalId(String(args.id)) : null;
            ctx.cacheTags.add(parsed ? `${parsed.type}:${parsed.uuid}` : `${named.name}:list`);
          }
          return result;
        };
        config.fields[name] = field;
      }
      return new GraphQLObjectType(config);
    },
  });
}

/**
 * The tags of an object: `Course:<uuid>` for an entity, plus its parents where its visibility
 * follows theirs (a lesson its course; an enrollment its course and student); `Course:list`
 * for a connection of courses.
 */
function tagFunction(type: GraphQLObjectType): ((source: Record<string, unknown>) => string[]) | undefined {
  const connection = /^(\w+)Connection$/.exec(type.name);
  if (connection) return () => [`${connection[1]}:list`];
  if (!type.getInterfaces().some((i) => i.name === 'Node')) return undefined;
  const parents: Array<[field: string, type: string]> =
    type.name === 'Lesson'
      ? [['courseId', 'Course']]
      : type.name === 'Enrollment'
        ? [
            ['courseId', 'Course'],
            ['studentId', 'User'],
          ]
        : [];
  return (source) => [
    `${type.name}:${String(source.id)}`,
    ...parents.map(([field, parent]) => `${parent}:${String(source[field])}`),
  ];
}

/** Computes and remembers the cache policy of each document (Apollo reuses parsed documents). */
export class CachePolicyCalculator {
  private readonly memo = new WeakMap<DocumentNode, Map<string, CachePolicy>>();

  constructor(private readonly schema: GraphQLSchema) {}

  policyOf(document: DocumentNode, operationName: string | null | undefined): CachePolicy {
    let byName = this.memo.get(document);
    if (!byName) this.memo.set(document, (byName = new Map()));
    const name = operationName ?? '';
    let policy = byName.get(name);
    if (!policy) byName.set(name, (policy = this.compute(document, operationName)));
    return policy;
  }

  private compute(document: DocumentNode, operationName: string | null | undefined): CachePolicy {
    const operation = document.definitions.find(
      (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
    );
    if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query')
      return { maxAge: 0, scope: 'PUBLIC' };
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const policy: CachePolicy = { maxAge: Number.POSITIVE_INFINITY, scope: 'PUBLIC' };
    this.walk(operation.selectionSet, this.schema.getQueryType()!, 0, fragments, policy, new Set());
    if (!Number.isFinite(policy.maxAge)) policy.maxAge = 0;
    return policy;
  }

  private walk(
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    parentMaxAge: number,
    fragments: Map<string, FragmentDefinitionNode>,
    policy: CachePolicy,
    seen: Set<string>,
  ): void {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT || selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
        if (!fragment || (selection.kind === Kind.FRAGMENT_SPREAD && seen.has(selection.name.value))) continue;
        const condition = fragment.typeCondition ? this.schema.getType(fragment.typeCondition.name.value) : parent;
        const next = selection.kind === Kind.FRAGMENT_SPREAD ? new Set([...seen, selection.name.value]) : seen;
        if (condition && isCompositeType(condition))
          this.walk(fragment.selectionSet, condition, parentMaxAge, fragments, policy, next);
        continue;
      }
      if (selection.name.value.startsWith('__')) {
        if (selection.name.value !== '__typename') policy.maxAge = 0; // introspection
        continue;
      }
      if (isAbstractType(parent) && !('getFields' in parent)) continue; // unions have no fields
      const field = (parent as GraphQLObjectType).getFields()[selection.name.value];
      if (!field) continue;
      const type = getNamedType(field.type);
      const { maxAge, scope } = this.fieldHint(field, type, parentMaxAge);
      policy.maxAge = Math.min(policy.maxAge, maxAge);
      if (scope === 'PRIVATE') policy.scope = 'PRIVATE';
      if (selection.selectionSet && isCompositeType(type))
        this.walk(selection.selectionSet, type, maxAge, fragments, policy, seen);
    }
  }

  private fieldHint(
    field: GraphQLField<unknown, unknown>,
    type: GraphQLNamedType,
    parentMaxAge: number,
  ): Required<CachePolicy> {
    const own = this.hintOf(field);
    const typeHint = isCompositeType(type) ? this.typeHint(type) : {};
    const privateByAuth = getDirective(this.schema, field, 'auth')?.length ? 'PRIVATE' : undefined;
    const scope = own.scope ?? privateByAuth ?? typeHint.scope ?? 'PUBLIC';
    let maxAge: number;
    if (own.maxAge !== undefined) maxAge = own.maxAge;
    else if (own.inheritMaxAge) maxAge = parentMaxAge;
    else if (isCompositeType(type)) maxAge = typeHint.inheritMaxAge ? parentMaxAge : (typeHint.maxAge ?? 0);
    else maxAge = parentMaxAge;
    return { maxAge, scope: privateByAuth ?? scope };
  }

  /** A type's hint; for an interface or union, the most restrictive of it and its members'. */
  private typeHint(type: GraphQLCompositeType): CacheHint {
    const own = this.hintOf(type);
    if (!isAbstractType(type)) return own;
    const members = this.schema.getPossibleTypes(type).map((t) => this.hintOf(t));
    return members.reduce<CacheHint>(
      (acc, h) => ({
        maxAge: Math.min(acc.maxAge ?? Infinity, h.maxAge ?? 0),
        scope: acc.scope === 'PRIVATE' || h.scope === 'PRIVATE' ? 'PRIVATE' : 'PUBLIC',
      }),
      own,
    );
  }

  private hintOf(node: Parameters<typeof getDirective>[1]): CacheHint {
    return (getDirective(this.schema, node, 'cacheControl')?.[0] as CacheHint | undefined) ?? {};
  }
}
