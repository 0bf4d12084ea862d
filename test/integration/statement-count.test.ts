import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { categories, lessonCompletions, reviews, sections } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * N+1 guard: the number of SQL statements for a nested catalog query must not depend on how
 * many courses (or lessons) the page holds — one statement per level, plus counts.
 */
const QUERY = (first: number) => `{
  courses(first: ${first}) {
    edges { node {
      title
      instructor { displayName }
      lessonCount
      enrollmentCount
      lessons(first: 10) { totalCount edges { node { title status } } }
    } }
  }
}`;

describe('SQL statements per request', () => {
  let t: TestApp;

  let rosterCourse: { id: string };
  let rosterToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    const instructors = await Promise.all([1, 2, 3].map(() => t.make.user({ role: 'INSTRUCTOR' })));
    const students = await Promise.all([1, 2, 3, 4].map(() => t.make.user()));
    // Made first, so the newest-first catalog pages below do not include it.
    // One course with a large roster, each student with some completion marks.
    const teacher = instructors[0]!;
    rosterCourse = await t.make.course(teacher.id);
    const rosterLessons = [];
    for (let p = 0; p < 6; p++) rosterLessons.push(await t.make.lesson(rosterCourse.id, { position: p }));
    for (let i = 0; i < 60; i++) {
      const s = await t.make.user();
      await t.make.enrollment(s.id, rosterCourse.id);
      const marks = rosterLessons
        .slice(0, i % 7)
        .map((l) => ({ studentId: s.id, lessonId: l.id, courseId: rosterCourse.id }));
      if (marks.length) await t.app.database.db.insert(lessonCompletions).values(marks);
    }
    rosterToken = await t.tokenFor(teacher);
    for (let c = 0; c < 60; c++) {
      const course = await t.make.course(instructors[c % 3]!.id);
      for (let p = 0; p < 12; p++)
        await t.make.lesson(course.id, { position: p, status: p % 2 ? 'COMPLETED' : 'SCHEDULED' });
      for (const s of students.slice(0, c % 5)) await t.make.enrollment(s.id, course.id);
    }
  });
  afterAll(() => t?.close());

  it('stays constant from 5 to 50 courses per page, at one statement per level plus counts', async () => {
    const small = await t.countQueries(() => t.gql(QUERY(5)));
    const large = await t.countQueries(() => t.gql(QUERY(50)));
    expect(small.result.errors).toBeUndefined();
    expect(large.result.errors).toBeUndefined();
    expect(large.result.data.courses.edges).toHaveLength(50);
    expect(large.result.data.courses.edges[0].node.lessons.edges).toHaveLength(10);
    expect(large.result.data.courses.edges[0].node.lessons.totalCount).toBe(12);

    // courses page, instructors, lesson counts (lessonCount and totalCount share it),
    // enrollment counts, lessons page.
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeLessThanOrEqual(5);
  });

  it("keeps a signed-in catalog page constant from 5 to 30 courses (the most the cost limit allows): category, sections, ratings, the viewer's review and access", async () => {
    const db = t.app.database.db;
    const [category] = await db.insert(categories).values({ slug: 'cooking', name: 'Cooking' }).returning();
    await db.execute(sql`update courses set category_id = ${category!.id}::uuid, price_cents = 900`);
    const all = await db.execute(sql`select id from courses`);
    const courseIds = (all as unknown as Array<{ id: string }>).map((r) => r.id);
    const viewer = await t.make.user();
    await db
      .insert(sections)
      .values(
        courseIds.flatMap((courseId) => [0, 1].map((position) => ({ courseId, title: `Part ${position}`, position }))),
      );
    await db
      .insert(reviews)
      .values(courseIds.map((courseId, i) => ({ courseId, authorId: viewer.id, rating: 1 + (i % 5) })));
    for (const courseId of courseIds.filter((_, i) => i % 2)) await t.make.entitlement(viewer.id, courseId);
    const token = await t.tokenFor(viewer);
    const q = (first: number) => `{ courses(first: ${first}) { edges { node {
      title
      category { name publishedCourseCount }
      sections { title position lessonCount lessons(first: 3) { edges { node { title } } } }
      ratingSummary { average count histogram }
      viewerReview { rating }
      viewerEntitlement { source }
      viewerCan { enroll purchase review }
    } } } }`;
    const small = await t.countQueries(() => t.gql(q(5), {}, { token }));
    const large = await t.countQueries(() => t.gql(q(30), {}, { token }));
    expect(small.result.errors, JSON.stringify(small.result.errors)).toBeUndefined();
    expect(large.result.errors, JSON.stringify(large.result.errors)).toBeUndefined();
    const nodes = large.result.data.courses.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(30);
    expect(nodes[0].category).toMatchObject({ name: 'Cooking' });
    expect(nodes[0].sections.map((x: any) => x.title)).toEqual(['Part 0', 'Part 1']);
    expect(nodes[0].ratingSummary.count).toBe(1);
    expect(nodes.every((n: any) => n.viewerReview !== null)).toBe(true);
    expect(nodes.some((n: any) => n.viewerEntitlement !== null)).toBe(true);
    expect(large.statements).toBe(small.statements);
  });

  it('keeps a roster with progress (and lessons with viewer flags) constant from 5 to 50 students', async () => {
    const q = (first: number) => `query($c: ID!) { course(id: $c) {
      stats { activeEnrollments averageProgressPercent }
      viewerCan { update enroll readStats }
      lessons(first: 6) { edges { node { title viewerCompletedAt viewerCan { update markCompleted readContent } } } }
      enrollments(first: ${first}) { edges { node { student { displayName } progress { completedLessons totalLessons percent lastActivityAt } } } }
    } }`;
    const c = { c: gid('Course', rosterCourse.id) };
    const small = await t.countQueries(() => t.gql(q(5), c, { token: rosterToken }));
    const large = await t.countQueries(() => t.gql(q(50), c, { token: rosterToken }));
    expect(small.result.errors).toBeUndefined();
    expect(large.result.errors).toBeUndefined();
    const edges = large.result.data.course.enrollments.edges;
    expect(edges).toHaveLength(50);
    expect(edges.some((e: any) => e.node.progress.completedLessons === 6)).toBe(true);
    expect(edges.every((e: any) => e.node.progress.totalLessons === 6)).toBe(true);
    expect(large.statements).toBe(small.statements);
  });

  it('batches lessons with different arguments per distinct argument set, not per course', async () => {
    const q = `{ courses(first: 40) { edges { node {
      done: lessons(first: 3, status: COMPLETED) { totalCount edges { node { status } } }
      todo: lessons(first: 3, status: SCHEDULED) { totalCount edges { node { status } } }
    } } } }`;
    const { result, statements } = await t.countQueries(() => t.gql(q));
    expect(result.errors).toBeUndefined();
    const node = result.data.courses.edges[0].node;
    expect(node.done.edges.every((e: any) => e.node.status === 'COMPLETED')).toBe(true);
    expect(node.todo.totalCount).toBe(6);
    // courses, lessons page per status (2), shared lesson counts
    expect(statements).toBeLessThanOrEqual(4);
  });
});
