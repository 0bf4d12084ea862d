import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const WRITE = `mutation($input: WriteReviewInput!) { writeReview(input: $input) { id rating body hidden author { id } } }`;
const HIDE = `mutation($id: ID!, $h: Boolean!) { setReviewHidden(id: $id, hidden: $h) { id hidden } }`;
const REPLY = `mutation($id: ID!, $r: String!) { replyToReview(id: $id, reply: $r) { instructorReply } }`;
const DELETE = `mutation($id: ID!) { deleteReview(id: $id) }`;
const SUMMARY = `query($id: ID!) { course(id: $id) { ratingSummary { average count histogram } reviews(first: 10) { totalCount edges { node { rating body } } } } }`;

describe('reviews and ratings', () => {
  let t: TestApp;
  let instructor: UserRow;
  let instructorToken: string;
  let adminToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    instructorToken = await t.tokenFor(instructor);
    adminToken = await t.tokenFor(await t.make.user({ role: 'ADMIN' }));
  });
  afterAll(() => t?.close());

  async function enrolledStudent(course: CourseRow, status: 'ACTIVE' | 'CANCELLED' = 'ACTIVE') {
    const student = await t.make.user();
    await t.make.enrollment(student.id, course.id, status === 'CANCELLED' ? { status, cancelledAt: new Date() } : {});
    return { student, token: await t.tokenFor(student) };
  }
  const write = (token: string, course: CourseRow, rating: number, body?: string | null) =>
    t.gql(WRITE, { input: { courseId: gid('Course', course.id), rating, body } }, { token });
  const summary = async (course: CourseRow, token?: string) =>
    (await t.gql(SUMMARY, { id: gid('Course', course.id) }, { token })).data.course;

  it('lets current and former students review, once each: writing again replaces', async () => {
    const course = await t.make.course(instructor.id);
    const a = await enrolledStudent(course);
    const b = await enrolledStudent(course, 'CANCELLED');
    const first = await write(a.token, course, 2, 'Meh');
    const again = await write(a.token, course, 4, '  ');
    expect(again.data.writeReview).toMatchObject({ id: first.data.writeReview.id, rating: 4, body: null });
    await write(b.token, course, 5, 'Great');
    expect((await summary(course)).ratingSummary).toEqual({ average: 4.5, count: 2, histogram: [0, 0, 0, 1, 1] });
  });

  it('refuses students who never enrolled, instructors, anonymous callers and bad input', async () => {
    const course = await t.make.course(instructor.id);
    const stranger = await t.tokenFor(await t.make.user());
    expect(codesOf(await write(stranger, course, 5))).toEqual(['FORBIDDEN']);
    expect(codesOf(await write(instructorToken, course, 5))).toEqual(['FORBIDDEN']);
    expect(codesOf(await write('', course, 5))).toEqual(['UNAUTHENTICATED']);
    const a = await enrolledStudent(course);
    const bad = await write(a.token, course, 6, 'x'.repeat(5_001));
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(Object.keys(bad.errors![0]!.extensions!.fieldErrors).sort()).toEqual(['body', 'rating']);
  });

  it('keeps one row for concurrent first writes by one student', async () => {
    const course = await t.make.course(instructor.id);
    const a = await enrolledStudent(course);
    const results = await Promise.all([1, 2, 3, 4, 5, 4, 3, 2].map((r) => write(a.token, course, r)));
    for (const r of results) expect(r.errors).toBeUndefined();
    const rows = rowsOf<{ n: number }>(
      await t.app.database.db.execute(sql`select count(*)::int as n from reviews where course_id = ${course.id}::uuid`),
    );
    expect(rows[0]!.n).toBe(1);
    expect((await summary(course)).ratingSummary.count).toBe(1);
  });

  it('hides reviews from everyone but their author and admins, and from every summary', async () => {
    const course = await t.make.course(instructor.id);
    const a = await enrolledStudent(course);
    const b = await enrolledStudent(course);
    const hidden = (await write(a.token, course, 1, 'Spam')).data.writeReview;
    await write(b.token, course, 5, 'Fine');
    expect(
      (await t.gql(HIDE, { id: hidden.id, h: true }, { token: instructorToken })).errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
    expect((await t.gql(HIDE, { id: hidden.id, h: true }, { token: adminToken })).data.setReviewHidden.hidden).toBe(
      true,
    );
    const publicView = await summary(course);
    expect(publicView.ratingSummary).toEqual({ average: 5, count: 1, histogram: [0, 0, 0, 0, 1] });
    expect(publicView.reviews.totalCount).toBe(1);
    expect((await summary(course, a.token)).reviews.totalCount).toBe(2);
    expect((await summary(course, adminToken)).reviews.totalCount).toBe(2);
  });

  it('lets the instructor reply, and the author or an admin delete', async () => {
    const course = await t.make.course(instructor.id);
    const a = await enrolledStudent(course);
    const b = await enrolledStudent(course);
    const review = (await write(a.token, course, 3)).data.writeReview;
    expect(
      (await t.gql(REPLY, { id: review.id, r: ' Thanks! ' }, { token: instructorToken })).data.replyToReview,
    ).toEqual({ instructorReply: 'Thanks!' });
    expect(codesOf(await t.gql(REPLY, { id: review.id, r: 'Me too' }, { token: b.token }))).toEqual(['FORBIDDEN']);
    expect(codesOf(await t.gql(DELETE, { id: review.id }, { token: b.token }))).toEqual(['FORBIDDEN']);
    expect((await t.gql(DELETE, { id: review.id }, { token: a.token })).data.deleteReview).toBe(review.id);
    expect((await summary(course)).ratingSummary).toEqual({ average: null, count: 0, histogram: [0, 0, 0, 0, 0] });
  });

  it('orders the catalog by rating (unrated last either way) and filters by minRating and price', async () => {
    const good = await t.make.course(instructor.id, { title: 'Good' });
    const bad = await t.make.course(instructor.id, { title: 'Bad', priceCents: 900 });
    await t.make.course(instructor.id, { title: 'Unrated' });
    await write((await enrolledStudent(good)).token, good, 5);
    await write((await enrolledStudent(bad)).token, bad, 2);
    const order = async (direction: string, filter: object = {}) =>
      (
        await t.gql(
          `query($o: CourseOrder, $f: CourseFilter) { courses(first: 100, orderBy: $o, filter: $f) { edges { node { title } } } }`,
          { o: { field: 'RATING', direction }, f: filter },
        )
      ).data.courses.edges
        .map((e: any) => e.node.title)
        .filter((x: string) => ['Good', 'Bad', 'Unrated'].includes(x));
    expect(await order('DESC')).toEqual(['Good', 'Bad', 'Unrated']);
    expect(await order('ASC')).toEqual(['Bad', 'Good', 'Unrated']);
    expect(await order('DESC', { minRating: 3 })).toEqual(['Good']);
    expect(await order('DESC', { free: false })).toEqual(['Bad']);
    const wrong = await t.gql(`{ courses(filter: { minRating: 7 }) { totalCount } }`);
    expect(wrong.errors![0]!.extensions!.fieldErrors).toHaveProperty('filter.minRating');
  });

  it('serves RATING and POPULARITY orders from their indexes', async () => {
    for (const [column, dir] of [
      ['rating_order_desc', 'desc'],
      ['rating_order_asc', 'asc'],
      ['active_enrollment_count', 'desc'],
    ] as const) {
      // The tables are tiny here: with sorting priced out, an ordered index scan is the only plan.
      const plan = await t.app.database.db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        await tx.execute(sql`set local enable_sort = off`);
        return rowsOf<Record<string, string>>(
          await tx.execute(
            sql.raw(
              `explain select id from courses where status = 'PUBLISHED' order by ${column} ${dir}, id ${dir} limit 21`,
            ),
          ),
        )
          .map((r) => Object.values(r)[0])
          .join('\n');
      });
      expect(plan).toContain(`courses_${column}_id_idx`);
      expect(plan).not.toMatch(/\bSort\b/);
    }
  });

  it('is never stale through the response cache', async () => {
    const course = await t.make.course(instructor.id);
    const a = await enrolledStudent(course);
    const read = async () => {
      const res = await t.gql(SUMMARY, { id: gid('Course', course.id) });
      return { count: res.data.course.ratingSummary.count, cache: res.headers.get('x-cache') };
    };
    await read();
    expect((await read()).cache).toBe('HIT');
    const review = (await write(a.token, course, 4)).data.writeReview;
    expect((await read()).count).toBe(1);
    await read();
    await t.gql(HIDE, { id: review.id, h: true }, { token: adminToken });
    expect((await read()).count).toBe(0);
  });
});
