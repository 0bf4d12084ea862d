import {
  getVariableValues,
  GraphQLError,
  GraphQLScalarType,
  GraphQLSchema,
  Kind,
  visit,
  type DocumentNode,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
import { stableJson } from '../util/stable-json.js';
import { introspectionCost } from './limits.js';

/**
 * A request's variables coerced by graphql-js, once: the cost estimate, the memo keys, the
 * response cache's key and execution (graphql-js or graphql-jit) all read this one result. Keys
 * made from the raw JSON were wrong twice over: `1e999` parses to Infinity, which JSON writes as
 * `null` (so an invalid request could find a valid one's answer), and graphql-jit's own coercion
 * read `$__proto__` into a plain object's prototype.
 */
export type CoercedVariables =
  | {
      readonly ok: true;
      /** Defaults applied, undeclared variables dropped; own properties only (no prototype). */
      readonly values: Readonly<Record<string, unknown>>;
      /** The values as text with sorted keys: equal for equal values, for memo and cache keys. */
      readonly key: string;
    }
  | { readonly ok: false; readonly errors: readonly GraphQLError[] };

const NO_VARIABLES: CoercedVariables = Object.freeze({
  ok: true,
  values: Object.freeze(Object.create(null) as Record<string, unknown>),
  key: '{}',
});

/** What execution takes: a document whose variables are declared as already coerced, and their values. */
export interface ExecutionInput {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly variableValues: Record<string, unknown>;
  /** The document and variables as sent (execution coerces what it declares). */
  readonly asSent: boolean;
}

/**
 * The scalar every rewritten variable definition declares: its `parseValue` is the identity,
 * so graphql-js and graphql-jit take values graphql-js has already coerced as they are, instead
 * of coercing them a second (and third) time. It exists only in the execution schema (below),
 * never in the published one.
 */
const CoercedValue = new GraphQLScalarType({
  name: '_CoercedValue',
  description: 'A variable value graphql-js has already coerced to its declared type.',
  parseValue: (value) => value,
  parseLiteral: () => {
    throw new GraphQLError('_CoercedValue is for variables only');
  },
  serialize: (value) => value,
});

interface Rewritten {
  readonly document: DocumentNode;
  /** Variable names changed in the rewritten document (`__proto__`), by their name as sent. */
  readonly renamed: ReadonlyMap<string, string>;
}

/**
 * Coerces each request's variables once and hands execution what it needs to use them as they
 * are. `of` is called by whoever needs the variables first (the cost check, the response cache,
 * the executor); later calls for the same request get the same result.
 */
export class OperationVariables {
  private readonly byRequest = new WeakMap<
    object,
    { operation: OperationDefinitionNode; raw: unknown; coerced: CoercedVariables }
  >();
  private readonly rewritten = new WeakMap<OperationDefinitionNode, Rewritten>();
  /** The schema plus `_CoercedValue`, sharing every type (and so every resolver) with it. */
  readonly executionSchema: GraphQLSchema;

  constructor(readonly schema: GraphQLSchema) {
    const config = schema.toConfig();
    this.executionSchema = new GraphQLSchema({ ...config, types: [...config.types, CoercedValue] });
  }

  /**
   * The variables of the request whose context object this is, coerced on first call. Keyed by
   * the context: Apollo hands plugins and the gateway executor different `request` objects, but
   * the one context value of the request.
   */
  of(context: object, operation: OperationDefinitionNode, raw: unknown): CoercedVariables {
    const known = this.byRequest.get(context);
    // A context serving several operations (a batch) holds the latest one's only.
    if (known && known.operation === operation && known.raw === raw) return known.coerced;
    const coerced = coerceVariables(this.schema, operation, raw);
    this.byRequest.set(context, { operation, raw, coerced });
    return coerced;
  }

  /**
   * The document and values to execute (and estimate) an operation whose variables coerced with:
   * the rewritten document and the coerced values, taken as they are. Operations without
   * variables run as sent; so do introspection queries with variables (`asSent`, graphql-js
   * coerces those a second time): their answer describes the schema they run on, which must be
   * the published one, and they are neither frequent nor worth a second path.
   */
  executionInput(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    values: Readonly<Record<string, unknown>>,
    raw: Record<string, unknown> | undefined,
  ): ExecutionInput {
    if (!operation.variableDefinitions?.length || introspectionCost(document, operation.name?.value) > 0)
      return { schema: this.schema, document, variableValues: raw ?? {}, asSent: true };
    let rewritten = this.rewritten.get(operation);
    if (!rewritten) this.rewritten.set(operation, (rewritten = rewrite(document, operation)));
    const variableValues: Record<string, unknown> = Object.create(null);
    for (const name of Object.keys(values)) variableValues[rewritten.renamed.get(name) ?? name] = values[name];
    return { schema: this.executionSchema, document: rewritten.document, variableValues, asSent: false };
  }
}

/** graphql-js's coercion of a request's variables (at most 50 errors, as its `execute` reports). */
export function coerceVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  raw: unknown,
): CoercedVariables {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw)))
    return {
      ok: false,
      errors: [new GraphQLError('Variables must be provided as an Object where each property is a variable value.')],
    };
  // No variables declared: whatever was sent is dropped, and the result is always the same.
  if (!operation.variableDefinitions?.length) return NO_VARIABLES;
  const result = getVariableValues(
    schema,
    operation.variableDefinitions ?? [],
    (raw ?? {}) as Record<string, unknown>,
    {
      maxErrors: 50,
    },
  );
  if (result.errors) return { ok: false, errors: result.errors };
  // graphql-js builds the values with a spread: `__proto__` is an own property, and the object
  // has Object.prototype. Copied onto a prototype-less object, a variable named like one of its
  // members (`toString`) is never read from the prototype by anyone.
  const values: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(result.coerced)) values[name] = result.coerced[name];
  return { ok: true, values, key: stableJson(values) };
}

/**
 * The operation (with the document's fragments) with every variable declared `_CoercedValue`,
 * except Booleans (graphql-jit compiles `@skip`/`@include` only on a declared `Boolean`; it checks
 * them with a `typeof`), and `$__proto__` renamed: graphql-jit collects variables on a plain
 * object, where that name would set the prototype instead of a property.
 */
function rewrite(document: DocumentNode, operation: OperationDefinitionNode): Rewritten {
  const names = new Set(operation.variableDefinitions?.map((d) => d.variable.name.value));
  const renamed = new Map<string, string>();
  for (const name of names) {
    if (name !== '__proto__') continue;
    let n = 0;
    while (names.has(`_proto_${n}`)) n++;
    renamed.set(name, `_proto_${n}`);
  }
  const isBoolean = (type: TypeNode): boolean =>
    type.kind === Kind.NON_NULL_TYPE
      ? isBoolean(type.type)
      : type.kind === Kind.NAMED_TYPE && type.name.value === 'Boolean';
  const definitions = document.definitions.filter((d) => d.kind !== Kind.OPERATION_DEFINITION || d === operation);
  const edited = visit(
    { ...document, definitions },
    {
      VariableDefinition(node) {
        if (isBoolean(node.type)) return undefined;
        return {
          ...node,
          type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: CoercedValue.name } },
          defaultValue: undefined,
        };
      },
      Variable(node) {
        const to = renamed.get(node.name.value);
        return to ? { ...node, name: { ...node.name, value: to } } : undefined;
      },
    },
  );
  return { document: edited, renamed };
}
