import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, isUniqueViolation, type Database } from '../../src/db/client.js';
import { courses, enrollments, lessons, users } from '../../src/db/schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { ensureAdmin } from '../../src/modules/users/index.js';
import { seedDemoData } from '../../src/seed/demo-data.js';
import { createTestDatabase } from '../helpers/databases.js';
import { TEST_JWT_SECRET } from '../helpers/env.js';
import { makeFactories } from '../helpers/factories.js';

const log = createLogger('silent');
const open = (url: string): Database =>
  createDatabase(loadConfig({ DATABASE_URL: url, JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' }), log);

describe('migrations', () => {
  it('run once when two instances start together (advisory lock)', async () => {
    const target = await createTestDatabase({ migrated: false });
    const a = open(target.url);
    const b = open(target.url);
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const journal = JSON.parse(readFileSync('drizzle/meta/_journal.json', 'utf8')) as { entries: unknown[] };
      const client = postgres(target.url, { max: 1 });
      const [row] = await client<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      await client.end();
      expect(row?.n).toBe(journal.entries.length);
    } finally {
      await a.close();
      await b.close();
      await target.drop();
    }
  });
});

describe('data model constraints', () => {
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;
  let make: ReturnType<typeof makeFactories>;
  let client: ReturnType<typeof postgres>;

  beforeAll(async () => {
    target = await createTestDatabase();
    database = open(target.url);
    make = makeFactories(database.db);
    client = postgres(target.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await client?.end();
    await database?.close();
    await target?.drop();
  });

  const violation = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e as { cause?: { constraint_name?: string } },
    );
    expect(err, 'expected a constraint violation').not.toBeNull();
    return err!.cause?.constraint_name;
  };

  it('keeps emails unique regardless of case', async () => {
    await make.user({ email: 'Case@Example.test' });
    const err = await make.user({ email: 'case@example.TEST' }).catch((e: unknown) => e);
    expect(isUniqueViolation(err, 'users_email_lower_key')).toBe(true);
  });

  it('keeps slugs unique and well-formed', async () => {
    const i = await make.user({ role: 'INSTRUCTOR' });
    await make.course(i.id, { slug: 'same-slug' });
    expect(
      isUniqueViolation(await make.course(i.id, { slug: 'same-slug' }).catch((e: unknown) => e), 'courses_slug_key'),
    ).toBe(true);
    expect(await violation(make.course(i.id, { slug: 'Not A Slug' }))).toBe('courses_slug_check');
  });

  it('rejects negative prices and positions and unknown statuses', async () => {
    const i = await make.user({ role: 'INSTRUCTOR' });
    expect(await violation(make.course(i.id, { priceCents: -1 }))).toBe('courses_price_cents_check');
    expect(await violation(make.course(i.id, { status: 'LIVE' as never }))).toBe('courses_status_check');
    const c = await make.course(i.id);
    expect(await violation(make.lesson(c.id, { position: -1 }))).toBe('lessons_position_check');
    expect(await violation(make.lesson(c.id, { status: 'PAUSED' as never }))).toBe('lessons_status_check');
    expect(await violation(make.lesson(c.id, { durationMinutes: 0 }))).toBe('lessons_duration_minutes_check');
    expect(await violation(make.user({ role: 'ROOT' as never }))).toBe('users_role_check');
  });

  it('allows one ACTIVE enrollment per student and course, and any number of cancelled ones', async () => {
    const i = await make.user({ role: 'INSTRUCTOR' });
    const s = await make.user();
    const c = await make.course(i.id);
    await make.enrollment(s.id, c.id, { status: 'CANCELLED', cancelledAt: new Date() });
    await make.enrollment(s.id, c.id, { status: 'CANCELLED', cancelledAt: new Date() });
    await make.enrollment(s.id, c.id);
    const err = await make.enrollment(s.id, c.id).catch((e: unknown) => e);
    expect(isUniqueViolation(err, 'enrollments_active_student_course_key')).toBe(true);
  });

  it('refuses to delete an instructor who owns courses, and deletes a course with its lessons', async () => {
    const i = await make.user({ role: 'INSTRUCTOR' });
    const c = await make.course(i.id);
    await make.lesson(c.id);
    expect(await violation(database.db.delete(users).where(eq(users.id, i.id)))).toBe('courses_instructor_id_fkey');
    await database.db.delete(courses).where(eq(courses.id, c.id));
    expect(await database.db.select().from(lessons).where(eq(lessons.courseId, c.id))).toEqual([]);
  });

  it('has an index leading with every foreign key column', async () => {
    const missing = await client`
      select c.conname from pg_constraint c
      where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        and not exists (
          select 1 from pg_index i
          where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]
        )`;
    expect(missing).toEqual([]);
  });

  it('searches courses through a GIN index on a generated tsvector', async () => {
    const [idx] = await client`select indexdef from pg_indexes where indexname = 'courses_search_vector_idx'`;
    expect(idx?.indexdef).toMatch(/USING gin \(search_vector\)/);
    await client`set enable_seqscan = off`;
    const plan =
      await client`explain select id from courses where search_vector @@ websearch_to_tsquery('english', 'python')`;
    expect(plan.map((r) => Object.values(r)[0]).join('\n')).toContain('courses_search_vector_idx');
  });
});

describe('demo data and admin bootstrap', () => {
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;

  beforeAll(async () => {
    target = await createTestDatabase();
    database = open(target.url);
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it('seeds a realistic catalog once, and a second run adds nothing', async () => {
    const first = await seedDemoData(database.db);
    expect(first).toEqual({ users: 54, courses: 20, lessons: 200, enrollments: 200, entitlements: 164, quizzes: 2 });
    expect(await seedDemoData(database.db)).toEqual({
      users: 0,
      courses: 0,
      lessons: 0,
      enrollments: 0,
      entitlements: 0,
      quizzes: 0,
    });

    const roles = await database.db
      .select({ role: users.role, n: sql<number>`count(*)::int` })
      .from(users)
      .groupBy(users.role);
    expect(Object.fromEntries(roles.map((r) => [r.role, r.n]))).toEqual({ ADMIN: 1, INSTRUCTOR: 3, STUDENT: 50 });
    const courseStatuses = await database.db.selectDistinct({ s: courses.status }).from(courses);
    expect(courseStatuses.map((r) => r.s).sort()).toEqual(['ARCHIVED', 'DRAFT', 'PUBLISHED']);
    const lessonStatuses = await database.db.selectDistinct({ s: lessons.status }).from(lessons);
    expect(lessonStatuses.map((r) => r.s).sort()).toEqual(['CANCELLED', 'COMPLETED', 'IN_PROGRESS', 'SCHEDULED']);
    const enrollmentStatuses = await database.db.selectDistinct({ s: enrollments.status }).from(enrollments);
    expect(enrollmentStatuses.map((r) => r.s).sort()).toEqual(['ACTIVE', 'CANCELLED']);
  });

  it('creates the ADMIN_EMAIL admin once, even when instances race', async () => {
    const admin = { email: 'Boss@Example.test', password: 'correct horse battery staple' };
    await Promise.all([ensureAdmin(database.db, admin, log), ensureAdmin(database.db, admin, log)]);
    await ensureAdmin(database.db, admin, log);
    const rows = await database.db.select().from(users).where(eq(users.email, 'boss@example.test'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.role).toBe('ADMIN');
    expect(rows[0]!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
