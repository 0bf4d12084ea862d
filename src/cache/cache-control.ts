import { getDirective, MapperKind, mapSchema } from '@graphql-tools/utils';
import { fromGlobalId } from '../graphql/global-id.js';
import { isPromiseLike } from '../util/is-promise-like.js';
import {
  defaultFieldResolver,
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
  isListType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLFieldResolver,
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
type CacheScope = 'PUBLIC' | 'PRIVATE';

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

/** Declares the directive and wires tag collection (see `tagCollectors`). */
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
  const collectorOf = tagCollectors(declared);
  return mapSchema(declared, {
    // Every object a response contains is the value of some field: the fields that return
    // entities, connections or edges (or lists of them, or a `Node`) note the tags of what
    // they resolved to. A connection notes its edges' nodes itself, so `edges` and `node`
    // keep graphql's default resolver (an executor may inline those). Tags are noted only
    // while the response cache is recording (`cacheTags` set); otherwise this is one check.
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const parent = declared.getType(typeName);
      if (parent && isConnectionOrEdge(parent) && (fieldName === 'edges' || fieldName === 'node')) return field;
      const collect = collectorOf(getNamedType(field.type));
      if (!collect) return field;
      const resolve: GraphQLFieldResolver<unknown, { cacheTags?: Set<string> }> = field.resolve ?? defaultFieldResolver;
      return {
        ...field,
        resolve: (source, args, ctx, info) => {
          const result = resolve(source, args, ctx, info);
          const tags = ctx?.cacheTags;
          if (!tags) return result;
          if (isPromiseLike(result))
            return result.then((value) => {
              collectDeep(value, collect, tags);
              return value;
            });
          collectDeep(result, collect, tags);
          return result;
        },
      };
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
        // A plain list of entities (`categories`) changes when one is added: it carries the
        // type's list tag, as connections do.
        const isList = isListType(isNonNullType(field.type) ? field.type.ofType : field.type);
        field.resolve = async (source, args, ctx: { cacheTags?: Set<string> }, info) => {
          const result = await resolve(source, args, ctx, info);
          if (isList && ctx?.cacheTags) ctx.cacheTags.add(`${named.name}:list`);
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

type Collect = (value: Record<string, unknown>, tags: Set<string>) => void;

/** Notes the tags of a resolved value: an object, or a (nested) list of objects or promises of them. */
function collectDeep(value: unknown, collect: Collect, tags: Set<string>): void {
  if (value == null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collectDeep(item, collect, tags);
    return;
  }
  if (isPromiseLike(value)) {
    // graphql awaits the item after this callback was attached, so the tag is in before the
    // response is complete.
    value.then(
      (item) => collectDeep(item, collect, tags),
      () => undefined,
    );
    return;
  }
  collect(value as Record<string, unknown>, tags);
}

function isConnectionOrEdge(type: GraphQLNamedType): type is GraphQLObjectType {
  return type instanceof GraphQLObjectType && /\w(Connection|Edge)$/.test(type.name);
}

/**
 * For each named type whose values carry cache tags, the function noting them: an entity's
 * own tags (`tagFunction`); an edge's node's; a connection's `<Name>:list` and its edges'
 * nodes'; for an interface or union, the tags of the object type it resolves to.
 */
function tagCollectors(schema: GraphQLSchema): (type: GraphQLNamedType) => Collect | undefined {
  const memo = new Map<string, Collect | undefined>();
  const collectorOf = (type: GraphQLNamedType): Collect | undefined => {
    if (memo.has(type.name)) return memo.get(type.name);
    memo.set(type.name, undefined); // cycles (an entity's fields) resolve lazily below
    let collect: Collect | undefined;
    if (isAbstractType(type)) {
      const members = schema.getPossibleTypes(type).filter((t) => collectorOf(t));
      if (members.length)
        collect = (value, tags) => {
          // Node's resolveType answers the `__typename` every `node`/`nodes` result carries.
          const resolved = (type.resolveType as ((v: unknown) => unknown) | undefined)?.(value);
          const name = typeof resolved === 'string' ? resolved : value.__typename;
          const member = typeof name === 'string' ? schema.getType(name) : undefined;
          const inner = member ? collectorOf(member) : undefined;
          if (inner) inner(value, tags);
          // A value whose type cannot be told is tagged as every member could have: never too few.
          else for (const m of members) collectorOf(m)!(value, tags);
        };
    } else if (isConnectionOrEdge(type)) {
      const fields = type.getFields();
      if (fields.edges) {
        const edgeType = getNamedType(fields.edges.type);
        const edge = isConnectionOrEdge(edgeType) ? collectorOf(edgeType) : undefined;
        const list = `${type.name.replace(/Connection$/, '')}:list`;
        collect = (value, tags) => {
          tags.add(list);
          const edges = value.edges;
          if (edge && Array.isArray(edges)) for (const e of edges) if (e) edge(e as Record<string, unknown>, tags);
        };
      } else if (fields.node) {
        const node = collectorOf(getNamedType(fields.node.type));
        if (node) collect = (value, tags) => collectDeep(value.node, node, tags);
      }
    } else if (type instanceof GraphQLObjectType) {
      const tagsOf = tagFunction(type);
      if (tagsOf)
        collect = (value, tags) => {
          for (const tag of tagsOf(value)) tags.add(tag);
        };
    }
    memo.set(type.name, collect);
    return collect;
  };
  return collectorOf;
}

/** Entities whose visibility or content follows their parents': the columns naming them. */
const PARENT_TAGS: Record<string, Array<[field: string, type: string]>> = {
  Lesson: [['courseId', 'Course']],
  Enrollment: [
    ['courseId', 'Course'],
    ['studentId', 'User'],
  ],
  Section: [['courseId', 'Course']],
  Review: [['courseId', 'Course']],
  Entitlement: [
    ['courseId', 'Course'],
    ['studentId', 'User'],
  ],
};

/**
 * Tags every entity of a type carries: a category counts and lists courses, so whatever
 * changes course lists (publishing, archiving, a course's category) changes it too.
 */
const CONSTANT_TAGS: Record<string, string[]> = { Category: ['Course:list'] };

/**
 * The tags of an entity: `Course:<uuid>`, plus its parents where its visibility follows
 * theirs (a lesson its course; an enrollment its course and student).
 */
function tagFunction(type: GraphQLObjectType): ((source: Record<string, unknown>) => string[]) | undefined {
  if (!type.getInterfaces().some((i) => i.name === 'Node')) return undefined;
  const parents = PARENT_TAGS[type.name] ?? [];
  const constant = CONSTANT_TAGS[type.name] ?? [];
  return (source) => [
    `${type.name}:${String(source.id)}`,
    ...parents.map(([field, parent]) => `${parent}:${String(source[field])}`),
    ...constant,
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
