import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';

const statements = new WeakMap<Db, Map<string, unknown>>();

/**
 * A statement built once per database handle and shape, then run with placeholders. Drizzle
 * otherwise rebuilds the SQL text from its query tree on every call, which for the catalog
 * query's three statements was about a tenth of its CPU. `shape` must name everything that
 * changes the SQL text (never a value: values are placeholders); the shapes are a fixed set
 * written in the code, so the map stays small. Postgres itself prepares each text once per
 * connection (postgres.js does that for every statement with parameters).
 */
export function prepared<Q>(db: Db, shape: string, build: () => Q): Q {
  let byShape = statements.get(db);
  if (!byShape) statements.set(db, (byShape = new Map()));
  let statement = byShape.get(shape) as Q | undefined;
  if (statement === undefined) byShape.set(shape, (statement = build()));
  return statement;
}

/** `column = any($name::uuid[])`, the id list as one array placeholder (see any-uuid.ts). */
export function anyUuidAt(column: AnyPgColumn, name: string): SQL {
  return sql`${column} = any(${sql.placeholder(name)}::uuid[])`;
}
