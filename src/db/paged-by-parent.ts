import { and, getTableColumns, inArray, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import {
  cursorValues,
  keysetConditionAt,
  keysetOrder,
  keysetOrderSql,
  type PageRequest,
  type SortSpec,
} from '../graphql/pagination.js';
import { anyUuidAt, prepared, type Grouping } from './prepared.js';
import type { Db } from './client.js';

/**
 * Parents given as a statement rather than as ids: `ids` selects them (a subquery whose
 * values are placeholders, none named like the page's own: `limit`, `cursorValue`,
 * `cursorId`), `shape` names its SQL text, `values` fills its placeholders. The children
 * of a page of parents can so be asked for in the same round trip as the page itself.
 */
export interface ParentQuery {
  readonly ids: SQLWrapper;
  readonly shape: string;
  readonly values: Record<string, unknown>;
}

/**
 * One statement that returns a page (size + 1 rows, to detect a next page) of a child list
 * for many parents at once: `row_number() over (partition by parent ...)`. This is what
 * keeps nested connections N+1-free.
 *
 * The ranking only picks ids (`id in (select id from (... row_number() ...) where rn <= n)`)
 * and the rows are selected from the table itself, in the page's order: Drizzle maps the
 * table's own columns directly, where the columns of a subquery go through its alias proxies
 * (measured: a third of the catalog query's CPU went to mapping the ranked subquery's rows).
 */
export async function pagesByParent<Row>(
  db: Db,
  table: PgTable,
  parentColumn: AnyPgColumn,
  parentOf: (row: Row) => string,
  /** The parents: their ids, or a statement that selects them (see `ParentQuery`). */
  parents: string[] | ParentQuery,
  spec: SortSpec<Row>,
  page: PageRequest,
  filter?: SQL,
  /** The columns to load (default: all of the table's). */
  columns: Record<string, AnyPgColumn> = getTableColumns(table),
  /**
   * Prepare the statement once per shape (db/prepared.ts): `shape` names the table, the
   * filter and the columns; the filter then holds placeholders only, whose `values` these are.
   */
  prepare?: { readonly shape: string; readonly values?: Record<string, unknown> },
): Promise<Map<string, Row[]>> {
  const result = new Map<string, Row[]>();
  const byQuery = !Array.isArray(parents);
  if (!byQuery && parents.length === 0) return result;
  const build = () => {
    const rn = sql<number>`row_number() over (partition by ${parentColumn} order by ${keysetOrderSql(spec, page)})`.as(
      'rn',
    );
    const ranked = db
      .select({ id: spec.idColumn, rn })
      .from(table)
      .where(
        and(
          byQuery ? inArray(parentColumn, parents.ids) : anyUuidAt(parentColumn, 'parentIds'),
          filter,
          keysetConditionAt(spec, page),
        ),
      )
      .as('ranked');
    const pageIds = db
      .select({ id: ranked.id })
      .from(ranked)
      .where(sql`${ranked.rn} <= ${sql.placeholder('limit')}`);
    return db
      .select(columns)
      .from(table)
      .where(inArray(spec.idColumn, pageIds))
      .orderBy(...keysetOrder(spec, page))
      .prepare('pages_by_parent');
  };
  // The text depends on the ordering's direction, on whether there is a cursor, and on the
  // parents' own statement.
  const parentShape = byQuery ? parents.shape : 'ids';
  const statement: ReturnType<typeof build> & Grouping = prepare
    ? prepared(
        db,
        `pages|${prepare.shape}|${spec.key}|${page.backward}|${page.cursor ? 'after' : 'first'}|${parentShape}`,
        build,
        // Grouped by the parent in SQL when the parent's column is one of those loaded.
        Object.keys(columns).find((name) => columns[name] === parentColumn),
      )
    : build();
  const values = {
    ...(byQuery ? parents.values : { parentIds: parents }),
    limit: page.size + 1,
    ...cursorValues(page),
    ...prepare?.values,
  };
  if (statement.executeGrouped) return (await statement.executeGrouped(values)) as Map<string, Row[]>;
  const rows = (await statement.execute(values)) as Row[];
  // In walking order overall, hence within each parent too.
  for (const row of rows) {
    const key = parentOf(row);
    const list = result.get(key);
    if (list) list.push(row);
    else result.set(key, [row]);
  }
  return result;
}
