import { Column, DrizzleQueryError, fillPlaceholders, is, noopDecoder, sql, SQL } from 'drizzle-orm';
import { PgArray, type AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { joinBatch, renumberable, type JsonStatement } from './together.js';

const statements = new WeakMap<Db, Map<string, unknown>>();

/**
 * A statement built once per database handle and shape, then run with placeholders. Drizzle
 * otherwise rebuilds the SQL text from its query tree on every call, which for the catalog
 * query's three statements was about a tenth of its CPU. `shape` must name everything that
 * changes the SQL text (never a value: values are placeholders); the shapes are a fixed set
 * written in the code, so the map stays small. Postgres itself prepares each text once per
 * connection (postgres.js does that for every statement with parameters).
 */
export function prepared<Q>(db: Db, shape: string, build: () => Q, groupBy?: string): Q & Grouping {
  let byShape = statements.get(db);
  if (!byShape) statements.set(db, (byShape = new Map()));
  let statement = byShape.get(shape) as (Q & Grouping) | undefined;
  if (statement === undefined) byShape.set(shape, (statement = withRowMapper(build(), groupBy)));
  return statement;
}

/**
 * A prepared select given `groupBy` (one of its fields, a parent's id) whose rows travel as
 * JSON: `executeGrouped` runs it with its rows grouped by that field's value, in the
 * statement's order within each group. Postgres does the grouping, so the parent's id crosses
 * the wire (and is parsed) once per parent, not once per row, and the rows of a parent share
 * that one string. Absent on any other statement (run `execute` and group the rows).
 */
export interface Grouping {
  executeGrouped?: (values?: Record<string, unknown>) => Promise<Map<string, unknown[]>>;
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
 * When every column's type reads the same from JSON, the rows travel as one JSON text
 * (`asJsonRows`).
 */
function withRowMapper<Q>(statement: Q, groupBy?: string): Q & Grouping {
  const q = statement as unknown as PostgresJsPrepared & Grouping;
  const fields = q.fields;
  if (
    !fields ||
    q.customResultMapper ||
    typeof q.client?.unsafe !== 'function' ||
    typeof q.queryString !== 'string' ||
    !Array.isArray(q.params)
  )
    return statement as Q & Grouping;
  const decoders: Array<Decoder | null> = [];
  let asJson = fields.length <= MAX_JSON_COLUMNS;
  for (const { path, field } of fields) {
    // Plain fields only: Drizzle's `joinsNotNullableMap` (set on every select, `{ table: true }`)
    // only ever nulls nested objects (paths of two), so it changes nothing here.
    if (path.length !== 1) return statement as Q & Grouping;
    // `decoder` is internal to Drizzle's SQL (mapResultRow reads it the same way).
    const decoder: Decoder | undefined = is(field, Column)
      ? field
      : is(field, SQL)
        ? (field as unknown as { decoder: Decoder }).decoder
        : is(field, SQL.Aliased)
          ? (field.sql as unknown as { decoder: Decoder }).decoder
          : undefined;
    if (!decoder) return statement as Q & Grouping;
    // Column's own (identity) decoder and SQL's no-op one need no call.
    const identity = decoder === noopDecoder || decoder.mapFromDriverValue === Column.prototype.mapFromDriverValue;
    decoders.push(identity ? null : decoder);
    asJson &&= isJsonSafe(field);
  }
  const mapRow = rowMapper(
    fields.map((f) => f.path[0]!),
    decoders,
  );
  const { client, params: template, logger } = q;
  const mapRows = (rows: unknown[][]) => {
    const out = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = mapRow(rows[i]!);
    return out;
  };
  const run = async (queryString: string, params: unknown[]) => {
    logger.logQuery(queryString, params);
    try {
      return await client.unsafe(queryString, params, { prepare: true }).values();
    } catch (e) {
      throw new DrizzleQueryError(queryString, params, e as Error);
    }
  };
  if (!asJson) {
    q.execute = async (values = {}) => mapRows(await run(q.queryString, fillPlaceholders(template, values)));
    return statement as Q & Grouping;
  }
  const json: JsonStatement = {
    client,
    logger,
    json: asJsonRows(q.queryString, fields.length),
    alone: async (params) => {
      const [row] = await run(json.json, params);
      return JSON.parse(row![0] as string) as unknown[][];
    },
  };
  const joinable = renumberable(q.queryString, template.length);
  q.execute = async (values = {}) => {
    const params = fillPlaceholders(template, values);
    return mapRows(await ((joinable && joinBatch(json, params)) || json.alone(params)));
  };
  const parent = groupBy === undefined ? -1 : fields.findIndex((f) => f.path[0] === groupBy);
  // Grouped by a text or uuid field: its JSON value is the string the row would hold.
  if (parent >= 0 && decoders[parent] === null && isText(fields[parent]!.field)) {
    const mapGroupRow = rowMapper(
      fields.map((f) => f.path[0]!),
      decoders,
      parent,
    ) as unknown as (p: unknown, row: unknown[]) => unknown;
    const grouped: JsonStatement = {
      client,
      logger,
      json: asGroupedJsonRows(q.queryString, fields.length, parent),
      alone: async (params) => {
        const [row] = await run(grouped.json, params);
        return JSON.parse(row![0] as string) as unknown[][];
      },
    };
    q.executeGrouped = async (values = {}) => {
      const params = fillPlaceholders(template, values);
      const groups = (await ((joinable && joinBatch(grouped, params)) || grouped.alone(params))) as Array<
        [string, unknown[][]]
      >;
      const result = new Map<string, unknown[]>();
      for (const [p, rows] of groups) {
        const out = new Array(rows.length);
        for (let i = 0; i < rows.length; i++) out[i] = mapGroupRow(p, rows[i]!);
        result.set(p, out);
      }
      return result;
    };
  }
  return statement as Q & Grouping;
}

/** `json_build_array` takes at most 100 arguments (Postgres' FUNC_MAX_ARGS). */
const MAX_JSON_COLUMNS = 100;

/**
 * Column types whose value in JSON decodes to what the driver's text gives: text and uuid
 * (the same string), int4 and boolean (the same number or boolean: never int8 or numeric,
 * whose JSON number would lose digits Drizzle keeps as text), timestamps in `date` mode
 * (ISO text instead of Postgres' own, read by `new Date` to the same instant), and arrays of
 * those (Drizzle's array decoder takes a parsed array as it is).
 */
const JSON_SAFE = new Set(['PgText', 'PgUUID', 'PgInteger', 'PgBoolean', 'PgTimestamp']);

function isJsonSafe(field: unknown): boolean {
  if (!is(field, Column)) return false;
  if (is(field, PgArray)) return JSON_SAFE.has((field.baseColumn as Column).columnType);
  return JSON_SAFE.has(field.columnType);
}

/**
 * The statement's rows as one JSON text of row arrays. postgres.js parses a row message per
 * row and a string per value in JavaScript; one `JSON.parse` of the whole result is a native
 * pass, a fifth of the cost on a catalog page (about 1,100 values), with far less garbage.
 * The columns are renamed by position (`t(c0, c1, ...)`), so any select list works; rows keep
 * the statement's order (Postgres never flattens a subquery with ORDER BY or LIMIT into the
 * outer query, so the aggregate reads the subquery's sorted output as it comes).
 */
function asJsonRows(queryString: string, columns: number): string {
  const names = Array.from({ length: columns }, (_, i) => `c${i}`);
  return `select coalesce(json_agg(json_build_array(${names.map((n) => `t.${n}`).join(', ')})), '[]')::text from (${queryString}) as t(${names.join(', ')})`;
}

function isText(field: unknown): boolean {
  return is(field, Column) && (field.columnType === 'PgText' || field.columnType === 'PgUUID');
}

/**
 * `asJsonRows` grouped by column `parent`: `[[parent value, [row without it, ...]], ...]`,
 * each group's rows in the statement's order (numbered as they come, as `asJsonRows` reads
 * them, and aggregated in that order), groups in no particular order.
 */
function asGroupedJsonRows(queryString: string, columns: number, parent: number): string {
  const names = Array.from({ length: columns }, (_, i) => `c${i}`);
  const rest = names.filter((_, i) => i !== parent).map((n) => `t.${n}`);
  return `select coalesce(json_agg(json_build_array(g.p, g.r)), '[]')::text from (select t.c${parent} as p, json_agg(json_build_array(${rest.join(', ')}) order by t.o) as r from (select s.*, row_number() over () as o from (${queryString}) as s(${names.join(', ')})) as t group by t.c${parent}) as g`;
}

/**
 * `(row) => ({ name0: row[0], name1: d1(row[1]), ... })`: one object literal, one hidden class.
 * With `parent`: `(p, row) => ...`, that field's value being `p` and the row holding the others.
 */
function rowMapper(names: string[], decoders: Array<Decoder | null>, parent = -1): (row: unknown[]) => unknown {
  const props = names.map((name, i) => {
    const at = parent < 0 || i < parent ? i : i - 1;
    if (i === parent) return `${JSON.stringify(name)}: p`;
    return decoders[i]
      ? `${JSON.stringify(name)}: r[${at}] === null ? null : d[${i}].mapFromDriverValue(r[${at}])`
      : `${JSON.stringify(name)}: r[${at}]`;
  });
  // Names come from the code's own select objects, quoted by JSON.stringify.
  const args = parent < 0 ? 'r' : 'p, r';
  return new Function('d', `return function mapRow(${args}) { return { ${props.join(', ')} }; };`)(decoders) as (
    row: unknown[],
  ) => unknown;
}
