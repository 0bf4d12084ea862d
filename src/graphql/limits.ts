import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type * as QueryComplexity from 'graphql-query-complexity';
import { createRequire } from 'node:module';
import type { Config } from '../config/config.js';

/**
 * Request limits shared by HTTP (Apollo) and WebSocket (graphql-ws): Apollo's protections do
 * not reach graphql-ws, so both transports build their checks from here.
 *  - tokens: graphql's parser aborts past `maxTokens` (parse option)
 *  - depth, aliases, directives: validation rules (graphql-armor)
 *  - cost: graphql-query-complexity after validation, because a connection's cost depends on
 *    its `first`/`last` variables (see `connectionComplexity`)
 */
export type Limits = Config['graphql'];

// Loaded as CommonJS on purpose: the package's ESM build imports graphql/index.mjs, a second
// copy of graphql beside the CommonJS one everything else uses ("another module or realm").
const { fieldExtensionsEstimator, getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof QueryComplexity;

/**
 * graphql-armor throws on rejection (it is built for envelop); a validation rule must
 * report instead, so that Apollo and graphql-ws answer GRAPHQL_VALIDATION_FAILED (400)
 * rather than an internal error.
 */
const reportInstead = {
  propagateOnRejection: false,
  exposeLimits: true,
  onReject: [
    (ctx: ValidationContext | null, err: GraphQLError) =>
      ctx?.reportError(new GraphQLError(err.message.replace(/^Syntax Error: /, ''), { nodes: err.nodes })),
  ],
};

export function limitValidationRules(limits: Limits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...reportInstead }),
    maxAliasesRule({ n: limits.maxAliases, ...reportInstead }),
    maxDirectivesRule({ n: limits.maxDirectives, ...reportInstead }),
  ] as ValidationRule[];
}

export function parseOptions(limits: Limits) {
  return { maxTokens: limits.maxTokens };
}

function variablesFailToCoerce(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): boolean {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return true;
  return 'errors' in getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
}

/**
 * What introspection costs: the estimator prices `__schema` like any field (1), but its answer
 * is the whole schema (~40 KB), so thirty aliased copies cost 750 for 1.2 MB. Each `__schema`
 * selection, aliases and fragment uses counted one by one, costs INTROSPECTION_SCHEMA_COST
 * (so a request holds at most a few at the default limit); each `__type` INTROSPECTION_TYPE_COST.
 */
const INTROSPECTION_SCHEMA_COST = 1_000;
const INTROSPECTION_TYPE_COST = 50;

export function introspectionCost(document: DocumentNode, operationName: string | undefined | null): number {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  let cost = 0;
  let visits = 0;
  // An explicit stack: fragments may be spread many times, but validation has already refused
  // cycles, and the number of visits is bounded by the parser's token limit times the depth.
  const stack: SelectionSetNode[] = [operation.selectionSet];
  while (stack.length) {
    const set = stack.pop()!;
    for (const selection of set.selections) {
      if (++visits > 1_000_000) return Number.MAX_SAFE_INTEGER;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__schema') cost += INTROSPECTION_SCHEMA_COST;
        else if (selection.name.value === '__type') cost += INTROSPECTION_TYPE_COST;
        if (selection.selectionSet) stack.push(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        stack.push(selection.selectionSet);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) stack.push(fragment.selectionSet);
      }
    }
  }
  return cost;
}

/** Throws a GRAPHQL_VALIDATION_FAILED error (HTTP 400) when the operation costs too much. */
export function assertCostWithin(
  limits: Limits,
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): number {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (err) {
    // Variables that do not coerce: execution refuses the whole operation (BAD_USER_INPUT)
    // and runs nothing, so nothing is spent. Any other estimation failure refuses the request:
    // a query whose cost cannot be known does not run.
    if (err instanceof GraphQLError && variablesFailToCoerce(schema, document, variables, operationName)) return 0;
    throw new GraphQLError(
      `The query's cost cannot be estimated: ${err instanceof Error ? err.message : String(err)}`,
      {
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
      },
    );
  }
  cost += introspectionCost(document, operationName);
  if (cost > limits.maxCost) {
    throw new GraphQLError(
      `Query cost ${cost} exceeds the maximum of ${limits.maxCost}; ask for fewer items per page or fewer fields.`,
      {
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', cost, maxCost: limits.maxCost, http: { status: 400 } },
      },
    );
  }
  return cost;
}
