import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import {
  execute,
  GraphQLError,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { isPromiseLike } from '../util/is-promise-like.js';
import {
  coerceVariables,
  OperationVariables,
  type CoercedVariables,
  type ExecutionInput,
} from './coerced-variables.js';

/** Apollo's gateway interface and executor types, as its constructor options name them. */
type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;

/**
 * Queries executed by graphql-jit: a document's execution is compiled into a JavaScript
 * function once, instead of graphql-js walking the document for every field of every row.
 * On the catalog query (14 courses × 10 lessons, about 1,400 fields) graphql-js building a
 * resolve-info object and an argument object per field was most of the execution's cost.
 *
 * - Only queries. Mutations and subscriptions (which run once per request, or over the
 *   WebSocket through graphql-ws) stay on graphql-js.
 * - Compiled on a document's second execution (`GRAPHQL_JIT_AFTER`). Compiling costs a few
 *   times what validating does, so a document seen once (a client trying things, an attacker
 *   cycling queries) never pays for it. Compiled queries live as long as Apollo keeps the
 *   parsed document (its bounded document store), in a WeakMap keyed by it.
 * - Variables are coerced once per request, by graphql-js (coerced-variables.ts), so an invalid
 *   variable is reported exactly as before (Apollo turns those errors into BAD_USER_INPUT with
 *   HTTP 400). Both executors then run a rewritten document that declares them already coerced
 *   and take the values as they are: graphql-jit's own coercion is never relied on.
 * - Resolvers, `@auth`, the input guard and cache-tag collection are resolver wrappers in
 *   the schema, so they run the same under both executors. graphql-jit does not pass the
 *   context to `isTypeOf`; nothing here relies on it.
 */
export class JitExecutor {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, CompiledQuery | number | false>>();

  /**
   * `compileAfter`: the execution of a document that compiles it (0: never). `onCompile` hears
   * of each compilation, and whether graphql-jit could compile the document.
   */
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly compileAfter = 2,
    private readonly onCompile: (outcome: 'compiled' | 'unsupported') => void = () => {},
    private readonly variables = new OperationVariables(schema),
  ) {}

  /**
   * Runs one operation. `coerced`: its variables as `OperationVariables` coerced them for this
   * request (coerced here when not given); execution takes them as they are.
   */
  run(
    document: DocumentNode,
    operation: OperationDefinitionNode | undefined,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | undefined,
    contextValue: unknown,
    coerced?: CoercedVariables,
  ): Promise<ExecutionResult> | ExecutionResult {
    // No operation matches the request: graphql-js answers that (400).
    if (!operation)
      return execute({ schema: this.schema, document, operationName, variableValues: variables, contextValue });
    const values = coerced ?? coerceVariables(this.schema, operation, variables);
    if (!values.ok) return { errors: values.errors };
    const input = this.variables.executionInput(document, operation, values.values, variables);
    // Introspection with variables runs as sent (see executionInput), on graphql-js only: the
    // coercion in graphql-jit is the one that mistook `$__proto__`.
    const compilable = operation.operation === 'query' && !(input.asSent && operation.variableDefinitions?.length);
    const compiled = compilable && this.compileAfter > 0 ? this.compiledFor(document, input, operationName) : undefined;
    if (!compiled)
      return execute({
        schema: input.schema,
        document: input.document,
        operationName,
        variableValues: input.variableValues,
        contextValue,
      });
    const result = compiled.query(undefined, contextValue, input.variableValues);
    return isPromiseLike(result) ? result.then(withGraphQLErrors) : withGraphQLErrors(result);
  }

  /** The compiled query from the document's `compileAfter`th execution on; undefined before (and if it cannot compile). */
  private compiledFor(
    document: DocumentNode,
    input: ExecutionInput,
    operationName: string | null | undefined,
  ): CompiledQuery | undefined {
    let byName = this.byDocument.get(document);
    if (!byName) this.byDocument.set(document, (byName = new Map()));
    const name = operationName ?? '';
    const entry = byName.get(name) ?? 0;
    if (entry === false) return undefined;
    if (typeof entry !== 'number') return entry;
    if (entry + 1 < this.compileAfter) {
      byName.set(name, entry + 1);
      return undefined;
    }
    let compiled: CompiledQuery | ExecutionResult | undefined;
    try {
      compiled = compileQuery(input.schema, input.document, operationName ?? undefined, {
        // Stacks of field errors are never sent (includeStacktraceInErrorResponses: false).
        disablingCapturingStackErrors: true,
      });
    } catch {
      compiled = undefined;
    }
    // A document graphql-jit cannot compile (it answers with errors or throws) stays on graphql-js.
    const usable = compiled && isCompiledQuery(compiled) ? compiled : false;
    byName.set(name, usable);
    this.onCompile(usable ? 'compiled' : 'unsupported');
    return usable || undefined;
  }

  /**
   * Apollo Server runs a custom executor only through its gateway interface: a "gateway"
   * that serves this one schema, never changes it, and executes with the JIT.
   */
  asGateway(): GatewayInterface {
    const schema = this.schema;
    const executor: GatewayExecutor = async (requestContext) =>
      this.run(
        requestContext.document,
        requestContext.operation,
        requestContext.operationName ?? requestContext.request.operationName,
        requestContext.request.variables,
        requestContext.context,
        requestContext.operation
          ? this.variables.of(requestContext.context, requestContext.operation, requestContext.request.variables)
          : undefined,
      );
    return {
      load: async () => ({ schema, executor }),
      onSchemaLoadOrUpdate: (callback) => {
        callback({ apiSchema: schema, coreSupergraphSdl: '' });
        return () => {};
      },
      stop: async () => {},
    };
  }
}

/**
 * graphql-jit's field errors are its own GraphQLError look-alike, whose `extensions` is
 * undefined when the original error has none (ours: AppError). Apollo reads
 * `error.extensions.code` and would turn every such error into a bare "Internal server
 * error". Rebuilt as graphql-js's own errors they carry path, locations and the original
 * error exactly as graphql-js execution would.
 */
function withGraphQLErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((e) => {
    const error = new GraphQLError(e.message, {
      path: e.path,
      originalError: e.originalError ?? undefined,
      extensions: e.extensions ?? undefined,
    });
    // graphql-js computes locations from AST nodes, which graphql-jit does not keep.
    (error as { locations: GraphQLError['locations'] }).locations = e.locations;
    return error;
  });
  return { ...result, errors };
}
