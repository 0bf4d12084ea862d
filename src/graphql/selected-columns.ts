import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The columns a connection's nodes need, read off the query: a list that shows titles and
 * statuses does not load (nor decode) every timestamp and text of each row.
 *
 * `columns` maps each table column to the GraphQL field of the same name on the node type.
 * When every field selected on `edges.node` is such a column field (or `__typename`), the
 * result is those columns plus `always` (keys, the cursor's sort column, what `@auth` and
 * the cache tags read); when any other field is selected (a field resolver may read any
 * column), or a node is reached some other way, it is every column. `resolved` names the
 * fields whose resolvers are known to read only some columns (`instructor` reads
 * `instructorId`): those fields take their columns, not every column. Remembered per field
 * node of the parsed document (documents are cached, so a repeated query costs one lookup).
 */
export class NodeColumns<C extends Record<string, unknown>> {
  private readonly memo = new WeakMap<FieldNode, { key: string; columns: C }>();

  constructor(
    private readonly all: C,
    private readonly always: readonly (keyof C & string)[],
    private readonly resolved: Readonly<Record<string, readonly (keyof C & string)[]>> = {},
  ) {}

  of(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): { key: string; columns: C } {
    const first = info.fieldNodes[0]!;
    let known = this.memo.get(first);
    if (!known) this.memo.set(first, (known = this.compute(info)));
    return known;
  }

  private compute(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): { key: string; columns: C } {
    const every = { key: '*', columns: this.all };
    const names = new Set<string>();
    for (const field of info.fieldNodes) {
      for (const edges of fieldsNamed(info, field.selectionSet, 'edges')) {
        for (const node of fieldsNamed(info, edges.selectionSet, 'node')) {
          if (!collectNames(info, node.selectionSet, names)) return every;
        }
      }
      // Anything else that reaches nodes (none today) would need every column.
      if (fieldsNamed(info, field.selectionSet, 'nodes').length) return every;
    }
    names.delete('__typename');
    const wanted = new Set<string>(this.always);
    for (const name of names) {
      const read = Object.hasOwn(this.resolved, name) ? this.resolved[name]! : undefined;
      if (read) for (const column of read) wanted.add(column);
      else if (Object.hasOwn(this.all, name)) wanted.add(name);
      else return every;
    }
    const columns = Object.fromEntries(Object.entries(this.all).filter(([name]) => wanted.has(name))) as C;
    return { key: [...wanted].sort().join(','), columns };
  }
}

/** The fields called `name` in a selection set, through fragments. */
function fieldsNamed(
  info: Pick<GraphQLResolveInfo, 'fragments'>,
  set: SelectionSetNode | undefined,
  name: string,
): FieldNode[] {
  const found: FieldNode[] = [];
  const visit = (s: SelectionSetNode | undefined) => {
    for (const selection of s?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === name) found.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else visit(info.fragments[selection.name.value]?.selectionSet);
    }
  };
  visit(set);
  return found;
}

/** Adds the names of the fields selected (through fragments); false when a selection has none. */
function collectNames(
  info: Pick<GraphQLResolveInfo, 'fragments'>,
  set: SelectionSetNode | undefined,
  names: Set<string>,
): boolean {
  if (!set) return false;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) names.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (!collectNames(info, selection.selectionSet, names)) return false;
    } else {
      const fragment = info.fragments[selection.name.value];
      if (!fragment || !collectNames(info, fragment.selectionSet, names)) return false;
    }
  }
  return true;
}
