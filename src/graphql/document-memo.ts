import type { DocumentNode } from 'graphql';

/**
 * Per-document work remembered across requests: Apollo keeps one parsed `DocumentNode` per
 * distinct query text (its bounded document store), so the same operation sent again finds
 * what was computed for it, per operation name and variables. Bounded twice: entries go with
 * their document (a WeakMap), and each document keeps at most `perDocument` variants (the
 * oldest dropped first); keys longer than `maxKeyLength` are not remembered at all.
 */
export class DocumentMemo<T> {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, T>>();

  constructor(
    private readonly perDocument = 64,
    private readonly maxKeyLength = 2_048,
  ) {}

  get(document: DocumentNode, key: string | undefined, compute: () => T): T {
    if (key === undefined || key.length > this.maxKeyLength) return compute();
    let entries = this.byDocument.get(document);
    const known = entries?.get(key);
    if (known !== undefined) return known;
    const value = compute();
    if (!entries) this.byDocument.set(document, (entries = new Map()));
    entries.set(key, value);
    if (entries.size > this.perDocument) entries.delete(entries.keys().next().value!);
    return value;
  }
}

/**
 * A memo key for an operation name and its variables as graphql-js coerced them (their
 * `CoercedVariables.key`): never the raw JSON, where `1e999` and `null` read the same.
 */
export function operationKey(operationName: string | null | undefined, coercedKey: string): string {
  return `${operationName ?? ''}\0${coercedKey}`;
}
