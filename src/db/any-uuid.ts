import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * `column = any($1::uuid[])`: the whole id list is one array parameter. Drizzle's inArray
 * expands a list into one parameter per id, which for a DataLoader batch of hundreds of
 * ids costs milliseconds to build and a new statement text per batch size.
 */
export function anyUuid(column: AnyPgColumn, ids: readonly string[]): SQL {
  return sql`${column} = any(${sql.param([...ids])}::uuid[])`;
}
