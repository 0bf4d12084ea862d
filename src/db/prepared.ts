import { Column, DrizzleQueryError, fillPlaceholders, is, noopDecoder, sql, SQL } from 'drizzle-orm';
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
  if (statement === undefined) byShape.set(shape, (statement = withRowMapper(build())));
  return statement;
}

const trees = new WeakMap<Db, Map<string, unknown>>();

/**
 * A query tree (say, a subquery that other prepared statements embed) built once per database
 * handle and `shape`: building Drizzle's tree costs more than running a prepared statement.
 * As with `prepared`, `shape` names everything that changes the SQL text, never a value.
 */
export function builtOnce<T>(db: Db, shape: string, build: () => T): T {
  let byShape = trees.get(db);
  if (!byShape) trees.set(db, (byShape = new Map()));
  let tree = byShape.get(shape) as T | undefined;
  if (tree === undefined) byShape.set(shape, (tree = build()));
  return tree;
}

/** `column = any($name::uuid[])`, the id list as one array placeholder (see any-uuid.ts). */
export function anyUuidAt(column: AnyPgColumn, name: string): SQL {
  return sql`${column} = any(${sql.placeholder(name)}::uuid[])`;
}

/** What a Drizzle postgres.js prepared query holds (not in its public types). */
interface PostgresJsPrepared {
  readonly client: {
    unsafe(query: string, params: unknown[], options: { prepare: boolean }): { values(): Promise<unknown[][]> };
  };
  readonly queryString: string;
  readonly params: unknown[];
  readonly logger: { logQuery(query: string, params: unknown[]): void };
  readonly fields?: ReadonlyArray<{ path: string[]; field: unknown }>;
  readonly customResultMapper?: unknown;
  execute: (values?: Record<string, unknown>) => Promise<unknown>;
}

interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/**
 * On postgres.js, a prepared select of plain fields (no joins, no nesting) gets its rows
 * made by one function written for its fields: Drizzle maps each row by walking its field
 * list (a type check, a path walk and a closure per value), which on the catalog query cost
 * about as much as the driver decoding the rows. Same objects, same keys in the same order,
 * same decoders (`mapFromDriverValue`, skipped for null as Drizzle does), the same logger call
 * and the same `DrizzleQueryError` around driver errors. Anything else keeps Drizzle's own.
 */
function withRowMapper<Q>(statement: Q): Q {
  const q = statement as unknown as PostgresJsPrepared;
  const fields = q.fields;
  if (
    !fields ||
    q.customResultMapper ||
    typeof q.client?.unsafe !== 'function' ||
    typeof q.queryString !== 'string' ||
    !Array.isArray(q.params)
  )
    return statement;
  const decoders: Array<Decoder | null> = [];
  for (const { path, field } of fields) {
    // Plain fields only: Drizzle's `joinsNotNullableMap` (set on every select, `{ table: true }`)
    // only ever nulls nested objects (paths of two), so it changes nothing here.
    if (path.length !== 1) return statement;
    // `decoder` is internal to Drizzle's SQL (mapResultRow reads it the same way).
    const decoder: Decoder | undefined = is(field, Column)
      ? field
      : is(field, SQL)
        ? (field as unknown as { decoder: Decoder }).decoder
        : is(field, SQL.Aliased)
          ? (field.sql as unknown as { decoder: Decoder }).decoder
          : undefined;
    if (!decoder) return statement;
    // Column's own (identity) decoder and SQL's no-op one need no call.
    const identity = decoder === noopDecoder || decoder.mapFromDriverValue === Column.prototype.mapFromDriverValue;
    decoders.push(identity ? null : decoder);
  }
  const mapRow = rowMapper(
    fields.map((f) => f.path[0]!),
    decoders,
  );
  const { client, queryString, params: template, logger } = q;
  q.execute = async (values = {}) => {
    const params = fillPlaceholders(template, values);
    logger.logQuery(queryString, params);
    let rows: unknown[][];
    try {
      rows = await client.unsafe(queryString, params, { prepare: true }).values();
    } catch (e) {
      throw new DrizzleQueryError(queryString, params, e as Error);
    }
    const out = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = mapRow(rows[i]!);
    return out;
  };
  return statement;
}

/** `(row) => ({ name0: row[0], name1: d1(row[1]), ... })`: one object literal, one hidden class. */
function rowMapper(names: string[], decoders: Array<Decoder | null>): (row: unknown[]) => unknown {
  const props = names.map((name, i) =>
    decoders[i]
      ? `${JSON.stringify(name)}: r[${i}] === null ? null : d[${i}].mapFromDriverValue(r[${i}])`
      : `${JSON.stringify(name)}: r[${i}]`,
  );
  // Names come from the code's own select objects, quoted by JSON.stringify.
  return new Function('d', `return function mapRow(r) { return { ${props.join(', ')} }; };`)(decoders) as (
    row: unknown[],
  ) => unknown;
}
