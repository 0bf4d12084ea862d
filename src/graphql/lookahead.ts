import {
  getArgumentValues,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * The fields named in `names` that a connection's nodes select (`edges { node { lessons } }`),
 * through fragments, each as the one field node the executor will resolve it with: the
 * node's fields are read off the query before the connection's rows exist, so what they load
 * can be asked for together with the rows.
 *
 * Null whenever that is not plainly so: a `@skip`/`@include` (or any directive) on the way,
 * one of the named fields' response keys selected more than once (the executor would merge
 * the field nodes), the connection itself merged from several field nodes. Callers then do
 * nothing ahead, and the fields load as they always do.
 */
export function nodeFieldsSelected(
  info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>,
  names: ReadonlySet<string>,
): FieldNode[] | null {
  if (info.fieldNodes.length !== 1) return null;
  const edges = fieldsOf(info, info.fieldNodes[0]!.selectionSet);
  if (edges === null) return null;
  const keys = new Map<string, number>();
  const found: FieldNode[] = [];
  for (const e of edges) {
    if (e.name.value !== 'edges') continue;
    const nodes = fieldsOf(info, e.selectionSet);
    if (nodes === null) return null;
    for (const n of nodes) {
      if (n.name.value !== 'node') continue;
      const fields = fieldsOf(info, n.selectionSet);
      if (fields === null) return null;
      for (const f of fields) {
        const key = f.alias?.value ?? f.name.value;
        keys.set(key, (keys.get(key) ?? 0) + 1);
        if (names.has(f.name.value)) found.push(f);
      }
    }
  }
  for (const f of found) if (keys.get(f.alias?.value ?? f.name.value)! > 1) return null;
  return found;
}

/** The fields of a selection set, through fragments; null when a directive is met. */
function fieldsOf(
  info: Pick<GraphQLResolveInfo, 'fragments'>,
  set: SelectionSetNode | undefined,
  into: FieldNode[] = [],
): FieldNode[] | null {
  for (const selection of set?.selections ?? []) {
    if (selection.directives?.length) return null;
    if (selection.kind === Kind.FIELD) into.push(selection);
    else {
      const inner =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : info.fragments[selection.name.value]?.selectionSet;
      const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? info.fragments[selection.name.value] : undefined;
      if (fragment?.directives?.length) return null;
      if (fieldsOf(info, inner, into) === null) return null;
    }
  }
  return into;
}

/**
 * `node`'s argument values as its resolver will receive them (defaults, variables), for a
 * field of the object type `typeName`; null when they do not coerce (the resolver reports it).
 */
export function argumentsOf(
  info: Pick<GraphQLResolveInfo, 'schema' | 'variableValues'>,
  typeName: string,
  node: FieldNode,
): Readonly<Record<string, unknown>> | null {
  const known = literalArguments.get(node);
  if (known && known.schema === info.schema && known.typeName === typeName) return known.values;
  const type = info.schema.getType(typeName);
  const field = isObjectType(type) ? type.getFields()[node.name.value] : undefined;
  if (!field) return null;
  let values: Record<string, unknown> | null;
  try {
    values = getArgumentValues(field, node, info.variableValues);
  } catch {
    values = null;
  }
  // Written out in the (cached, parsed) document: the same values on every request.
  if (!node.arguments?.some((a) => usesVariables(a.value)))
    literalArguments.set(node, { schema: info.schema, typeName, values: values && Object.freeze(values) });
  return values;
}

/** Arguments without variables, per field node of a parsed document. */
const literalArguments = new WeakMap<
  FieldNode,
  { schema: GraphQLSchema; typeName: string; values: Readonly<Record<string, unknown>> | null }
>();

function usesVariables(value: ValueNode): boolean {
  switch (value.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return value.values.some(usesVariables);
    case Kind.OBJECT:
      return value.fields.some((f) => usesVariables(f.value));
    default:
      return false;
  }
}

/** Whether the field itself (a connection) selects `name` directly, through fragments and without directives. */
export function selectsField(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, name: string): boolean {
  if (info.fieldNodes.length !== 1) return false;
  const fields = fieldsOf(info, info.fieldNodes[0]!.selectionSet);
  return fields !== null && fields.some((f) => f.name.value === name);
}
