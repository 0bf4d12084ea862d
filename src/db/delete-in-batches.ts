import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { rowsOf, type Db } from './client.js';

const BATCH = 5_000;

/**
 * Deletes the rows matching `where`, at most BATCH per statement, until none are left: a
 * backlog never becomes one huge statement that outlives `statement_timeout` or holds locks
 * for long. Returns how many rows went.
 */
export async function deleteInBatches(db: Db, table: PgTable, id: AnyPgColumn, where: SQL): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await db.execute(sql`
      with doomed as (select ${id} from ${table} where ${where} limit ${BATCH})
      delete from ${table} where ${id} in (select * from doomed) returning 1`);
    const n = rowsOf(deleted).length;
    total += n;
    if (n < BATCH) return total;
  }
}
