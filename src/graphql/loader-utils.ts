import DataLoader from 'dataloader';

/** Orders `rows` to match `keys` (DataLoader's contract), with null for absent keys. */
function inKeyOrder<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): Array<V | null> {
  const map = new Map<K, V>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((k) => map.get(k) ?? null);
}

/** A per-request loader of rows by primary key. */
export function rowLoader<V>(
  fetch: (ids: string[]) => Promise<V[]>,
  idOf: (row: V) => string,
): DataLoader<string, V | null> {
  return new DataLoader(async (ids) => inKeyOrder(ids, await fetch([...ids]), idOf), { maxBatchSize: 500 });
}

/**
 * A loader for per-parent lists that take arguments (page size, cursor, filters): keys with
 * the same arguments are fetched together in one statement; different arguments (rare,
 * e.g. aliases) make one statement each.
 */
export function groupedLoader<P, V>(
  fetch: (parentIds: string[], params: P) => Promise<Map<string, V>>,
  paramsKey: (params: P) => string,
  empty: () => V,
): DataLoader<{ parentId: string; params: P }, V, string> {
  return new DataLoader(
    async (keys) => {
      const groups = new Map<string, { params: P; parentIds: Set<string> }>();
      for (const { parentId, params } of keys) {
        const gk = paramsKey(params);
        const group = groups.get(gk) ?? { params, parentIds: new Set<string>() };
        group.parentIds.add(parentId);
        groups.set(gk, group);
      }
      const results = new Map<string, Map<string, V>>();
      await Promise.all([...groups].map(async ([gk, g]) => results.set(gk, await fetch([...g.parentIds], g.params))));
      return keys.map(({ parentId, params }) => results.get(paramsKey(params))?.get(parentId) ?? empty());
    },
    { cacheKeyFn: ({ parentId, params }) => `${parentId}|${paramsKey(params)}`, maxBatchSize: 500 },
  );
}
