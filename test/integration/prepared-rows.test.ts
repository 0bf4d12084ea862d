import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/client.js';
import { anyUuid } from '../../src/db/any-uuid.js';
import { anyUuidAt, prepared } from '../../src/db/prepared.js';
import { together } from '../../src/db/together.js';
import { courseColumns, courses, lessons } from '../../src/db/schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { createTestDatabase } from '../helpers/databases.js';
import { TEST_JWT_SECRET } from '../helpers/env.js';
import { makeFactories } from '../helpers/factories.js';

/**
 * Prepared statements make their rows with a function written for their fields, not with
 * Drizzle's mapper: the rows must be the very objects Drizzle makes (keys, order, types,
 * nulls, decoded timestamps and counts), and driver errors must arrive wrapped as Drizzle's.
 */
describe(prepared.name, () => {
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;
  let ids: string[];

  beforeAll(async () => {
    target = await createTestDatabase();
    database = createDatabase(
      loadConfig({ DATABASE_URL: target.url, JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' }),
      createLogger('silent'),
    );
    const make = makeFactories(database.db);
    const teacher = await make.user({ role: 'INSTRUCTOR' });
    const draft = await make.course(teacher.id, { status: 'DRAFT', priceCents: 1999 });
    const live = await make.course(teacher.id, { publishedAt: new Date('2026-01-02T03:04:05.678Z') });
    await make.lesson(live.id);
    ids = [draft.id, live.id];
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it('makes the same rows as Drizzle, column types and nulls included', async () => {
    const { db } = database;
    const statement = prepared(db, 'test-courses', () =>
      db.select(courseColumns).from(courses).where(anyUuidAt(courses.id, 'ids')).orderBy(courses.id).prepare('t1'),
    );
    // The generated mapper replaced Drizzle's execute on this statement (not left to Drizzle).
    expect(Object.hasOwn(statement, 'execute')).toBe(true);
    const fast = await statement.execute({ ids });
    const drizzle = await db.select(courseColumns).from(courses).where(anyUuid(courses.id, ids)).orderBy(courses.id);
    expect(fast).toHaveLength(2);
    expect(fast).toEqual(drizzle);
    for (let i = 0; i < fast.length; i++) expect(Object.keys(fast[i]!)).toEqual(Object.keys(drizzle[i]!));
    expect(fast.some((r) => r.publishedAt === null)).toBe(true);
    expect(fast.find((r) => r.publishedAt !== null)!.publishedAt).toEqual(new Date('2026-01-02T03:04:05.678Z'));
    expect(fast[0]!.createdAt).toBeInstanceOf(Date);
  });

  it('reads rows of JSON-safe columns as one JSON text, with text of any shape unchanged', async () => {
    const { db } = database;
    const title = 'quotes " \\ back\\slash, tab\t, newline\n, \u0001 control, é, 漢字, 😀 and \u2028';
    await db.update(courses).set({ title, description: '' }).where(eq(courses.id, ids[0]!));
    const sent: string[] = [];
    const spy = createDatabase(
      loadConfig({ DATABASE_URL: target.url, JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' }),
      createLogger('silent'),
      { onQuery: (q) => sent.push(q) },
    );
    try {
      const statement = prepared(spy.db, 'test-json', () =>
        spy.db
          .select(courseColumns)
          .from(courses)
          .where(anyUuidAt(courses.id, 'ids'))
          .orderBy(courses.createdAt, courses.id)
          .prepare('t4'),
      );
      const fast = await statement.execute({ ids });
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatch(/^select coalesce\(json_agg/);
      const drizzle = await db
        .select(courseColumns)
        .from(courses)
        .where(anyUuid(courses.id, ids))
        .orderBy(courses.createdAt, courses.id);
      expect(fast).toEqual(drizzle);
      expect(fast.map((r) => r.id)).toEqual(drizzle.map((r) => r.id));
      expect(fast.find((r) => r.id === ids[0])!.title).toBe(title);
      expect(fast[0]!.ratingHistogram).toEqual([0, 0, 0, 0, 0]);
      const none = await prepared(spy.db, 'test-json', (): typeof statement => {
        throw new Error('built once');
      }).execute({ ids: [] });
      expect(none).toEqual([]);
    } finally {
      await spy.close();
    }
  });

  it('sends the JSON statements started together as one statement, each with its own rows and values', async () => {
    const sent: string[] = [];
    const spy = createDatabase(
      loadConfig({ DATABASE_URL: target.url, JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' }),
      createLogger('silent'),
      { onQuery: (q) => sent.push(q) },
    );
    try {
      const { db } = spy;
      const byIds = prepared(db, 'together-courses', () =>
        db.select(courseColumns).from(courses).where(anyUuidAt(courses.id, 'ids')).orderBy(courses.id).prepare('t5'),
      );
      const titles = prepared(db, 'together-lessons', () =>
        db
          .select({ id: lessons.id, title: lessons.title })
          .from(lessons)
          .where(eq(lessons.courseId, sql.placeholder('courseId')))
          .prepare('t6'),
      );
      const [a, b, c] = await Promise.all(
        together(() => [
          byIds.execute({ ids: [ids[1]] }),
          titles.execute({ courseId: ids[1] }),
          byIds.execute({ ids }),
        ]),
      );
      expect(sent).toHaveLength(1);
      expect(a).toEqual(await byIds.execute({ ids: [ids[1]] }));
      expect(b).toEqual(await titles.execute({ courseId: ids[1] }));
      expect(c).toEqual(await byIds.execute({ ids }));
      expect(c).toHaveLength(2);
      expect(sent).toHaveLength(4);

      // One failing value fails the joined statement: each member hears of it, as Drizzle's error.
      const failed = await Promise.allSettled(
        together(() => [byIds.execute({ ids }), titles.execute({ courseId: 'not-a-uuid' })]),
      );
      for (const r of failed) {
        expect(r.status).toBe('rejected');
        expect(((r as PromiseRejectedResult).reason as Error).constructor.name).toBe('DrizzleQueryError');
      }
    } finally {
      await spy.close();
    }
  });

  it("groups rows by a parent's id in SQL when asked, each group in the statement's order", async () => {
    const { db } = database;
    const make = makeFactories(db);
    const added: string[] = [];
    for (const courseId of ids)
      for (let p = 0; p < 3; p++)
        added.push((await make.lesson(courseId, { position: 20 - p, title: `Grouped ${p}` })).id);
    onTestFinished(() =>
      db
        .delete(lessons)
        .where(anyUuid(lessons.id, added))
        .then(() => undefined),
    );
    const build = () =>
      db
        .select({ id: lessons.id, courseId: lessons.courseId, title: lessons.title, createdAt: lessons.createdAt })
        .from(lessons)
        .where(anyUuidAt(lessons.courseId, 'ids'))
        .orderBy(lessons.position, lessons.id)
        .prepare('t7');
    const rows = await prepared(db, 'grouped-plain', build).execute({ ids });
    const statement = prepared(db, 'grouped', build, 'courseId');
    expect(statement.executeGrouped).toBeDefined();
    const groups = await statement.executeGrouped!({ ids });
    expect([...groups.keys()].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(groups.get(id)).toEqual(rows.filter((r) => r.courseId === id));
      expect(Object.keys(groups.get(id)![0] as object)).toEqual(['id', 'courseId', 'title', 'createdAt']);
    }
    expect(groups.get(ids[1]!)!.length).toBe(4);
    // Joined with other statements, and with no rows at all.
    const [one, none, flat] = await Promise.all(
      together(() => [
        statement.executeGrouped!({ ids: [ids[0]] }),
        statement.executeGrouped!({ ids: [] }),
        statement.execute({ ids }),
      ]),
    );
    expect([...one.keys()]).toEqual([ids[0]]);
    expect(one.get(ids[0]!)).toEqual(groups.get(ids[0]!));
    expect(none.size).toBe(0);
    expect(flat).toEqual(rows);
    // Grouped only by a text or uuid field the statement selects.
    expect(prepared(db, 'grouped-by-time', build, 'createdAt').executeGrouped).toBeUndefined();
    expect(prepared(db, 'grouped-by-nothing', build, 'sectionId').executeGrouped).toBeUndefined();
  });

  it('decodes computed fields (counts) as Drizzle does', async () => {
    const { db } = database;
    const rows = await prepared(db, 'test-counts', () =>
      db
        .select({ courseId: lessons.courseId, n: count(), raw: sql<string>`'x'` })
        .from(lessons)
        .groupBy(lessons.courseId)
        .prepare('t2'),
    ).execute();
    expect(rows).toEqual([{ courseId: ids[1], n: 1, raw: 'x' }]);
  });

  it('wraps driver errors as Drizzle does (the cause is the Postgres error)', async () => {
    const { db } = database;
    const failing = prepared(db, 'test-error', () =>
      db
        .select({ id: courses.id })
        .from(courses)
        .where(eq(courses.id, sql.placeholder('id')))
        .prepare('t3'),
    );
    const err = await failing.execute({ id: 'not-a-uuid' }).catch((e: unknown) => e);
    expect((err as Error).constructor.name).toBe('DrizzleQueryError');
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('22P02');
  });
});
