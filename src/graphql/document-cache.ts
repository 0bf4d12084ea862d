import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type ValidationRule } from 'graphql';

export type Checked = { document: DocumentNode; errors?: undefined } | { document?: undefined; errors: GraphQLError[] };

/**
 * Parses and validates a query once per distinct text (what Apollo does for HTTP). Thousands
 * of dashboards send the same subscription: they share one AST instead of holding a copy
 * each, and validation runs once. Least-recently-used entries are dropped past `size`.
 */
export class DocumentCache {
  private readonly entries = new Map<string, Checked>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly rules: readonly ValidationRule[],
    private readonly maxTokens: number,
    private readonly size = 500,
  ) {}

  check(query: string): Checked {
    const hit = this.entries.get(query);
    if (hit) {
      this.entries.delete(query);
      this.entries.set(query, hit);
      return hit;
    }
    const checked = this.compute(query);
    this.entries.set(query, checked);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
    return checked;
  }

  private compute(query: string): Checked {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.maxTokens });
    } catch (err) {
      return {
        errors: [
          withCode(err instanceof GraphQLError ? err : new GraphQLError('Invalid query'), 'GRAPHQL_PARSE_FAILED'),
        ],
      };
    }
    const errors = validate(this.schema, document, this.rules);
    if (errors.length) return { errors: errors.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')) };
    return { document };
  }
}

/** graphql's parse and validation errors carry no code; Apollo adds them on HTTP, this does on WS. */
export function withCode(err: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(err.message, {
    nodes: err.nodes,
    source: err.source,
    positions: err.positions,
    extensions: { ...err.extensions, code },
  });
}
