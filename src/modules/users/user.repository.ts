import { and, count, eq, ilike, inArray, or, sql, type SQL } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { anyUuidAt, prepared } from '../../db/prepared.js';
import type { ParentQuery } from '../../db/paged-by-parent.js';
// Tables come from the schema barrel (leaf modules), not through other modules' services.
import {
  courses,
  enrollments,
  userColumns,
  users,
  type NewUserRow,
  type Role,
  type UserRow,
  type UserWithPassword,
} from '../../db/schema.js';
import { keysetCondition, keysetOrder, type PageRequest, type SortSpec } from '../../graphql/pagination.js';

export const userSort: SortSpec<UserRow> = {
  key: 'users:CREATED_AT:ASC',
  column: users.createdAt,
  idColumn: users.id,
  kind: 'timestamp',
  direction: 'ASC',
  valueOf: (u) => u.createdAt,
  idOf: (u) => u.id,
};

/**
 * Who may see a user at all: instructors and admins are public (they teach); a student is
 * visible to themself, admins, and the instructors of courses the student enrolled in.
 * `undefined` means no restriction.
 */
function userVisibility(viewer: Viewer): SQL | undefined {
  if (viewer.role === 'ADMIN') return undefined;
  const publicRoles = inArray(users.role, ['INSTRUCTOR', 'ADMIN']);
  if (!viewer.userId) return publicRoles;
  return or(
    publicRoles,
    eq(users.id, viewer.userId),
    sql`exists (select 1 from ${enrollments} join ${courses} on ${courses.id} = ${enrollments.courseId}
      where ${enrollments.studentId} = ${users.id} and ${courses.instructorId} = ${viewer.userId})`,
  );
}

export function findUsersByIds(db: Db, ids: string[], visibleTo?: Viewer): Promise<UserRow[]> {
  // Relations (a course's instructor): the hot one, prepared.
  if (!visibleTo) {
    return prepared(db, 'users-by-ids', () =>
      db.select(userColumns).from(users).where(anyUuidAt(users.id, 'ids')).prepare('users_by_ids'),
    ).execute({ ids });
  }
  return db
    .select(userColumns)
    .from(users)
    .where(and(anyUuid(users.id, ids), visibleTo ? userVisibility(visibleTo) : undefined));
}

/**
 * The users a statement selects the ids of (`ids`: a subquery with placeholders only, named by
 * `shape`, filled by `values`): a page's instructors, loaded with the page itself. Prepared.
 */
export function findUsersIn(db: Db, query: ParentQuery): Promise<UserRow[]> {
  return prepared(db, `users-in|${query.shape}`, () =>
    db.select(userColumns).from(users).where(inArray(users.id, query.ids)).prepare('users_in'),
  ).execute(query.values);
}

/** With the password hash: for signing in. */
export async function findUserByEmail(db: Db, email: string): Promise<UserWithPassword | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`)
    .limit(1);
  return row;
}

export interface UserListFilter {
  role?: Role | null;
  search?: string | null;
}

function listCondition(filter: UserListFilter): SQL | undefined {
  const search = filter.search ? `%${escapeLike(filter.search)}%` : undefined;
  return and(
    filter.role ? eq(users.role, filter.role) : undefined,
    search ? or(ilike(users.displayName, search), ilike(users.email, search)) : undefined,
  );
}

export function listUsers(db: Db, filter: UserListFilter, page: PageRequest): Promise<UserRow[]> {
  return db
    .select(userColumns)
    .from(users)
    .where(and(listCondition(filter), keysetCondition(userSort, page)))
    .orderBy(...keysetOrder(userSort, page))
    .limit(page.size + 1);
}

export async function countUsers(db: Db, filter: UserListFilter): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users).where(listCondition(filter));
  return row?.n ?? 0;
}

/** `%`, `_` and `\` are literal in user searches, not wildcards. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The user row; with `lock`, locked for the rest of the transaction. */
export async function findUser(db: Db, id: string, lock = false): Promise<UserRow | undefined> {
  const query = db.select().from(users).where(eq(users.id, id));
  const [row] = lock ? await query.for('update') : await query;
  return row;
}

/** The user row with its password hash (for checking or changing the password). */
export async function findUserWithPassword(db: Db, id: string): Promise<UserWithPassword | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

/** Locks every admin row (so two demotions cannot both see another admin left); their ids. */
export async function lockAdmins(db: Db): Promise<string[]> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.role, 'ADMIN')).for('update');
  return rows.map((r) => r.id);
}

export async function insertUser(db: Db, values: NewUserRow): Promise<UserRow> {
  const [row] = await db.insert(users).values(values).returning();
  return row!;
}

/** Updates the user; undefined when there is no such user. */
export async function updateUser(db: Db, id: string, changes: Partial<NewUserRow>): Promise<UserRow | undefined> {
  const [row] = await db.update(users).set(changes).where(eq(users.id, id)).returning();
  return row;
}

/**
 * Sets emailVerifiedAt, only while `email` is still the user's address (case-insensitive);
 * undefined when it no longer is.
 */
export async function markEmailVerified(db: Db, id: string, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .update(users)
    .set({ emailVerifiedAt: new Date() })
    .where(sql`${users.id} = ${id} and lower(${users.email}) = lower(${email})`)
    .returning();
  return row;
}
