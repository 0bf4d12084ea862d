import { and, getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { anyUuid } from './any-uuid.js';
import { keysetCondition, keysetOrderSql, type PageRequest, type SortSpec } from '../graphql/pagination.js';
import type { Db } from './client.js';

/**
 * One statement that returns a page (size + 1 rows, to detect a next page) of a child list
 * for many parents at once: `row_number() over (partition by parent ...)`. This is what
 * keeps nested connections N+1-free.
 */
export async function pagesByParent<Row>(
  db: Db,
  table: PgTable,
  parentColumn: AnyPgColumn,
  parentOf: (row: Row) => string,
  parentIds: string[],
  spec: SortSpec<Row>,
  page: PageRequest,
  filter?: SQL,
  /** The columns to load (default: all of the table's). */
  columns: Record<string, AnyPgColumn> = getTableColumns(table),
): Promise<Map<string, Row[]>> {
  const result = new Map<string, Row[]>();
  if (parentIds.length === 0) return result;
  const rn = sql<number>`row_number() over (partition by ${parentColumn} order by ${keysetOrderSql(spec, page)})`.as(
    'rn',
  );
  // Drizzle's generic subquery types do not survive an abstract table; the shape is the
  // table's own row plus `rn`, which is stripped below.
  const ranked: any = db
    .select({ ...columns, rn })
    .from(table)
    .where(and(anyUuid(parentColumn, parentIds), filter, keysetCondition(spec, page)))
    .as('ranked');
  const rows = (await db
    .select()
    .from(ranked)
    .where(sql`${ranked.rn} <= ${page.size + 1}`)
    .orderBy(ranked.rn)) as Array<Row & { rn: number }>;
  for (const { rn: _rn, ...row } of rows) {
    const key = parentOf(row as Row);
    const list = result.get(key) ?? [];
    list.push(row as Row);
    result.set(key, list);
  }
  return result;
}
