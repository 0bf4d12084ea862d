import { asc, desc, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { AppError } from '../errors/app-error.js';
import { textProblem } from './input-guard.js';

/**
 * Relay cursor pagination on keysets (never offsets), so a cursor keeps pointing at the same
 * place while rows are inserted before it. A cursor is base64url(JSON) of the sort key, the
 * sort value and the row id; it is opaque to clients and validated on the way back in: every
 * value by type and by the range its Postgres column takes (a cursor is not signed, so a
 * client can forge one, but only to start a page anywhere it could start one anyway).
 */

export const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

type SortValue = Date | string | number;
type SortKind = 'timestamp' | 'text' | 'int';
type Direction = 'ASC' | 'DESC';

/** How one list is ordered: a column, its direction, and the row id as tie-breaker. */
export interface SortSpec<Row> {
  /** Cursor namespace; a cursor from another list or ordering is rejected. */
  readonly key: string;
  readonly column: AnyPgColumn | SQL;
  readonly idColumn: AnyPgColumn;
  readonly kind: SortKind;
  readonly direction: Direction;
  valueOf(row: Row): SortValue;
  idOf(row: Row): string;
}

export interface Cursor {
  readonly value: SortValue;
  readonly id: string;
}

export interface PageRequest {
  readonly backward: boolean;
  readonly size: number;
  readonly cursor: Cursor | null;
}

interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<Row> {
  edges: Array<{ cursor: string; node: Row }>;
  pageInfo: PageInfo;
  /** Resolved only when the client asks for it. */
  readonly totalCount: Promise<number> | number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INT4_MIN = -2_147_483_648;
const INT4_MAX = 2_147_483_647;

export function encodeCursor<Row>(spec: SortSpec<Row>, row: Row): string {
  const v = spec.valueOf(row);
  const value = v instanceof Date ? v.toISOString() : v;
  return Buffer.from(JSON.stringify([spec.key, value, spec.idOf(row)]), 'utf8').toString('base64url');
}

/** Throws BAD_USER_INPUT naming `field` for anything that is not a cursor of this list. */
export function decodeCursor<Row>(spec: SortSpec<Row>, cursor: string, field: string): Cursor {
  const invalid = () => AppError.badInput({ [field]: 'is not a valid cursor for this list' });
  // Titles (≤ 200 characters, up to 4 UTF-8 bytes each) make the longest cursors.
  if (cursor.length > 2_048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
  const [key, raw, id] = parsed as unknown[];
  if (key !== spec.key || typeof id !== 'string' || !UUID.test(id)) throw invalid();
  switch (spec.kind) {
    case 'timestamp': {
      // Only what encodeCursor writes (toISOString of a stored row): four-digit years from
      // 0001, so an expanded year (+275760) or year 0 never reaches Postgres' timestamptz.
      if (typeof raw !== 'string' || !ISO_INSTANT.test(raw)) throw invalid();
      const date = new Date(raw);
      if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1) throw invalid();
      return { value: date, id };
    }
    case 'int':
      // Sort columns of kind 'int' are Postgres int4.
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < INT4_MIN || raw > INT4_MAX) throw invalid();
      return { value: raw, id };
    case 'text':
      if (typeof raw !== 'string' || raw.length > 1_000 || textProblem(raw) !== null) throw invalid();
      return { value: raw, id };
  }
}

/** Validates Relay arguments (page size 1..max, no mixing directions) and decodes the cursor. */
export function parsePage<Row>(spec: SortSpec<Row>, args: PageArgs, maxSize = MAX_PAGE_SIZE): PageRequest {
  const { first, after, last, before } = args;
  const errors: Record<string, string> = {};
  const hasFirst = first !== undefined && first !== null;
  const hasLast = last !== undefined && last !== null;
  if (hasFirst && (!Number.isInteger(first) || first < 1 || first > maxSize)) {
    errors.first = `must be between 1 and ${maxSize}`;
  }
  if (hasLast && (!Number.isInteger(last) || last < 1 || last > maxSize)) {
    errors.last = `must be between 1 and ${maxSize}`;
  }
  if (hasFirst && hasLast) errors.last = 'cannot be combined with first';
  if (after != null && before != null) errors.before = 'cannot be combined with after';
  if (hasLast && after != null) errors.after = 'cannot be combined with last';
  if (hasFirst && before != null) errors.before = 'cannot be combined with first';
  if (Object.keys(errors).length) throw AppError.badInput(errors);

  const backward = hasLast || (!hasFirst && before != null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const raw = backward ? before : after;
  const cursor = raw == null ? null : decodeCursor(spec, raw, backward ? 'before' : 'after');
  return { backward, size, cursor };
}

/** The Postgres type a sort value is cast to in keyset conditions. */
function sqlTypeOf(kind: SortKind): SQL {
  return sql.raw(kind === 'timestamp' ? 'timestamptz' : kind);
}

/** Ascending when walking in the list's own direction forwards, or against it backwards. */
function walksAscending<Row>(spec: SortSpec<Row>, page: PageRequest): boolean {
  return (spec.direction === 'ASC') !== page.backward;
}

/** `(sort, id) > (cursor)` (or `<`): a row comparison the (sort, id) index answers directly. */
export function keysetCondition<Row>(spec: SortSpec<Row>, page: PageRequest): SQL | undefined {
  if (!page.cursor) return undefined;
  const { cursorValue, cursorId } = cursorValues(page);
  return keysetBound(spec, page, sql`${cursorValue}`, sql`${cursorId}`);
}

/** `(sort, id) > (value::type, id::uuid)` (or `<`), with the cursor given as SQL. */
function keysetBound<Row>(spec: SortSpec<Row>, page: PageRequest, value: SQL, id: SQL): SQL {
  const op = walksAscending(spec, page) ? sql.raw('>') : sql.raw('<');
  return sql`(${spec.column}, ${spec.idColumn}) ${op} (${value}::${sqlTypeOf(spec.kind)}, ${id}::uuid)`;
}

/**
 * `keysetCondition` with the cursor as placeholders `cursorValue` and `cursorId` (their
 * values from `cursorValues`): the same SQL text for every cursor, for prepared statements.
 */
export function keysetConditionAt<Row>(spec: SortSpec<Row>, page: PageRequest, prefix = ''): SQL | undefined {
  if (!page.cursor) return undefined;
  return keysetBound(
    spec,
    page,
    sql`${sql.placeholder(`${prefix}cursorValue`)}`,
    sql`${sql.placeholder(`${prefix}cursorId`)}`,
  );
}

/**
 * The placeholder values `keysetConditionAt` takes. `prefix` names them apart when one
 * statement holds two keysets (a page of children whose parents are themselves a page).
 */
export function cursorValues(page: PageRequest, prefix = ''): Record<string, unknown> {
  if (!page.cursor) return {};
  const { value, id } = page.cursor;
  return { [`${prefix}cursorValue`]: value instanceof Date ? value.toISOString() : value, [`${prefix}cursorId`]: id };
}

export function keysetOrder<Row>(spec: SortSpec<Row>, page: PageRequest): SQL[] {
  const dir = walksAscending(spec, page) ? asc : desc;
  return [dir(spec.column), dir(spec.idColumn)];
}

/** Same ordering as SQL text, for window functions (`row_number() over (... order by ...)`). */
export function keysetOrderSql<Row>(spec: SortSpec<Row>, page: PageRequest): SQL {
  const dir = sql.raw(walksAscending(spec, page) ? 'asc' : 'desc');
  return sql`${spec.column} ${dir}, ${spec.idColumn} ${dir}`;
}

/**
 * Turns `size + 1` rows fetched in walking order into a connection. The extra row only
 * tells whether another page exists in the walking direction. Walking forwards from a
 * cursor (or backwards to one), the page on the other side is reported as present.
 */
export function toConnection<Row>(
  spec: SortSpec<Row>,
  page: PageRequest,
  rows: Row[],
  totalCount: () => Promise<number>,
): Connection<Row> {
  const more = rows.length > page.size;
  const n = more ? page.size : rows.length;
  // Edges made straight from the rows, in the page's order: no copy of the rows first.
  const edges = new Array<Edge<Row>>(n);
  for (let i = 0; i < n; i++) edges[i] = new Edge(spec, rows[page.backward ? n - 1 - i : i]!);
  const pageInfo = new EdgesPageInfo(
    page.backward ? page.cursor !== null : more,
    page.backward ? more : page.cursor !== null,
    edges,
  );
  return new RowConnection(edges, pageInfo, totalCount);
}

// Classes rather than object literals with getters: the getters live on the prototype, not
// defined again on each of a request's connections.

class RowConnection<Row> implements Connection<Row> {
  private count: Promise<number> | undefined;

  constructor(
    readonly edges: Edge<Row>[],
    readonly pageInfo: PageInfo,
    private readonly countOf: () => Promise<number>,
  ) {}

  get totalCount(): Promise<number> {
    return (this.count ??= this.countOf());
  }
}

class EdgesPageInfo<Row> implements PageInfo {
  constructor(
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
    private readonly edges: readonly Edge<Row>[],
  ) {}

  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }

  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
}

/** An edge whose cursor is encoded only when a client selects it (most lists never do). */
class Edge<Row> {
  private encoded: string | undefined;

  constructor(
    private readonly spec: SortSpec<Row>,
    readonly node: Row,
  ) {}

  get cursor(): string {
    return (this.encoded ??= encodeCursor(this.spec, this.node));
  }
}

/** A stable string for DataLoader keys that carry page arguments. */
export function pageKey(page: PageRequest): string {
  // Most pages have no cursor (a list's first page, a nested list's page): no JSON for them.
  // Keys with a cursor start with `[`, so the two kinds never meet.
  if (!page.cursor) return `${page.backward ? 'last' : 'first'}:${page.size}`;
  return JSON.stringify([
    page.backward,
    page.size,
    page.cursor?.value instanceof Date ? page.cursor.value.toISOString() : (page.cursor?.value ?? null),
    page.cursor?.id ?? null,
  ]);
}
