import { Kind, type OperationDefinitionNode } from 'graphql';

const entries = new WeakMap<OperationDefinitionNode, string | null>();

/**
 * The stored-entry text (`{"data":...}`) of a query whose answer depends on its document
 * alone, or null: one that selects nothing but `__typename` on the query root (aliased or not,
 * without directives). No resolver, viewer, variable or row can change what it answers, so the
 * HTTP handler may answer the same request body again without Apollo's pipeline (every rule
 * outside execution still applied per request: see graphql-handler.ts). Worked out once per
 * parsed operation.
 */
export function constantEntryOf(operation: OperationDefinitionNode, queryTypeName: string): string | null {
  let entry = entries.get(operation);
  if (entry === undefined) entries.set(operation, (entry = compute(operation, queryTypeName)));
  return entry;
}

function compute(operation: OperationDefinitionNode, queryTypeName: string): string | null {
  if (operation.operation !== 'query' || operation.directives?.length) return null;
  const data: Record<string, string> = {};
  for (const selection of operation.selectionSet.selections) {
    if (
      selection.kind !== Kind.FIELD ||
      selection.name.value !== '__typename' ||
      selection.directives?.length ||
      selection.arguments?.length ||
      selection.selectionSet
    )
      return null;
    data[selection.alias?.value ?? '__typename'] = queryTypeName;
  }
  return JSON.stringify({ data });
}
