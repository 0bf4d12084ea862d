import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import type { CourseRow, LessonRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const MARK = `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id viewerCompletedAt } }`;
const UNMARK = `mutation($l: ID!) { unmarkLessonCompleted(lessonId: $l) { id viewerCompletedAt } }`;
const ENROLL = `mutation($c: ID!) { enroll(courseId: $c) { id } }`;
const UNENROLL = `mutation($c: ID!) { unenroll(courseId: $c) { id } }`;
const MY_PROGRESS = `query { me { enrollments(first: 10) { edges { node { course { id } progress { completedLessons totalLessons percent lastActivityAt } } } } } }`;
const ROSTER = `query($c: ID!) { course(id: $c) { enrollments(first: 10) { edges { node { student { id } progress { completedLessons totalLessons percent } } } } } }`;
const STATS = `query($c: ID!) { course(id: $c) { stats { activeEnrollments averageProgressPercent studentsCompleted lessonsByStatus { status count } generatedAt } } }`;
const LESSON = `query($l: ID!) { lesson(id: $l) { id viewerCompletedAt } }`;
const SCHEDULE = `query($u: ID!, $from: DateTime, $to: DateTime, $first: Int, $after: String) { user(id: $u) {
  schedule(from: $from, to: $to, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { title scheduledAt status } } } } }`;

describe('learner progress, course statistics and schedules', () => {
  let t: TestApp;
  let owner: UserRow, student: UserRow, other: UserRow, admin: UserRow, outsiderInstructor: UserRow;
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ MAX_QUERY_COST: '300' }); // as the abuse tests: the pricing shows
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    outsiderInstructor = await t.make.user({ role: 'INSTRUCTOR' });
    student = await t.make.user();
    other = await t.make.user();
    admin = await t.make.user({ role: 'ADMIN' });
    for (const [name, u] of Object.entries({ owner, outsiderInstructor, student, other, admin }))
      tok[name] = await t.tokenFor(u);
  });
  afterAll(() => t?.close());

  /** A published course with three lessons (one CANCELLED), the student actively enrolled. */
  const setup = async () => {
    const course = await t.make.course(owner.id);
    const lessons = [
      await t.make.lesson(course.id, { position: 0 }),
      await t.make.lesson(course.id, { position: 1 }),
      await t.make.lesson(course.id, { position: 2, status: 'CANCELLED', cancelledAt: new Date() }),
    ];
    await t.make.enrollment(student.id, course.id);
    return { course, lessons };
  };
  const mark = (l: LessonRow, who = 'student') => t.gql(MARK, { l: gid('Lesson', l.id) }, { token: tok[who] });
  const myProgress = async (course: CourseRow, who = 'student') => {
    const res = await t.gql(MY_PROGRESS, {}, { token: tok[who] });
    expect(res.errors).toBeUndefined();
    return res.data.me.enrollments.edges.find((e: any) => e.node.course.id === gid('Course', course.id))?.node.progress;
  };

  describe('markLessonCompleted', () => {
    it('marks a lesson for an actively enrolled student and keeps the first completedAt when marked twice', async () => {
      const { lessons } = await setup();
      const first = await mark(lessons[0]!);
      expect(first.errors).toBeUndefined();
      const at = first.data.markLessonCompleted.viewerCompletedAt;
      expect(Date.parse(at)).toBeGreaterThan(Date.now() - 60_000);
      const again = await mark(lessons[0]!);
      expect(again.errors).toBeUndefined();
      expect(again.data.markLessonCompleted.viewerCompletedAt).toBe(at);
    });

    it('is FORBIDDEN for instructors and admins, CONFLICT for students not enrolled, BAD_USER_INPUT for a CANCELLED lesson', async () => {
      const { lessons } = await setup();
      expect(codesOf(await mark(lessons[0]!, 'owner'))).toEqual(['FORBIDDEN']);
      expect(codesOf(await mark(lessons[0]!, 'admin'))).toEqual(['FORBIDDEN']);
      expect(codesOf(await mark(lessons[0]!, 'other'))).toEqual(['CONFLICT']);
      const cancelled = await mark(lessons[2]!);
      expect(codesOf(cancelled)).toEqual(['BAD_USER_INPUT']);
      expect(cancelled.errors![0]!.extensions!.fieldErrors).toHaveProperty('lessonId');
      expect(codesOf(await t.gql(MARK, { l: gid('Lesson', lessons[0]!.id) }))).toEqual(['UNAUTHENTICATED']);
      expect(codesOf(await t.gql(MARK, { l: 'garbage' }, { token: tok.student }))).toEqual(['NOT_FOUND']);
      // Nothing was written by any refused call.
      expect((await myProgress((await t.make.course(owner.id)) as CourseRow)) ?? null).toBeNull();
    });

    it('unmarks, and unmarking an unmarked lesson is harmless', async () => {
      const { lessons } = await setup();
      await mark(lessons[0]!);
      const res = await t.gql(UNMARK, { l: gid('Lesson', lessons[0]!.id) }, { token: tok.student });
      expect(res.errors).toBeUndefined();
      expect(res.data.unmarkLessonCompleted.viewerCompletedAt).toBeNull();
      const twice = await t.gql(UNMARK, { l: gid('Lesson', lessons[0]!.id) }, { token: tok.student });
      expect(twice.errors).toBeUndefined();
    });

    it('shows viewerCompletedAt only to the student who marked it (null for others and anonymous)', async () => {
      const { lessons } = await setup();
      await mark(lessons[0]!);
      const l = { l: gid('Lesson', lessons[0]!.id) };
      expect((await t.gql(LESSON, l, { token: tok.student })).data.lesson.viewerCompletedAt).not.toBeNull();
      expect((await t.gql(LESSON, l, { token: tok.owner })).data.lesson.viewerCompletedAt).toBeNull();
      expect((await t.gql(LESSON, l)).data.lesson.viewerCompletedAt).toBeNull();
    });
  });

  describe('Enrollment.progress', () => {
    it('counts the non-cancelled lessons, with percent and the latest mark', async () => {
      const { course, lessons } = await setup();
      expect(await myProgress(course)).toEqual({
        completedLessons: 0,
        totalLessons: 2,
        percent: 0,
        lastActivityAt: null,
      });
      await mark(lessons[0]!);
      const p = await myProgress(course);
      expect(p).toMatchObject({ completedLessons: 1, totalLessons: 2, percent: 50 });
      expect(p.lastActivityAt).not.toBeNull();
    });

    it('is visible on the roster to the course instructor and admins, not to another instructor', async () => {
      const { course, lessons } = await setup();
      await mark(lessons[1]!);
      for (const who of ['owner', 'admin']) {
        const res = await t.gql(ROSTER, { c: gid('Course', course.id) }, { token: tok[who] });
        expect(res.errors).toBeUndefined();
        expect(res.data.course.enrollments.edges).toEqual([
          {
            node: {
              student: { id: gid('User', student.id) },
              progress: { completedLessons: 1, totalLessons: 2, percent: 50 },
            },
          },
        ]);
      }
      const res = await t.gql(ROSTER, { c: gid('Course', course.id) }, { token: tok.outsiderInstructor });
      expect(codesOf(res)).toEqual(['FORBIDDEN']);
      expect(res.data.course.enrollments).toBeNull();
    });

    it('survives unenrolling: re-enrolling restores it', async () => {
      const { course, lessons } = await setup();
      await mark(lessons[0]!);
      expect((await t.gql(UNENROLL, { c: gid('Course', course.id) }, { token: tok.student })).errors).toBeUndefined();
      expect(codesOf(await mark(lessons[1]!))).toEqual(['CONFLICT']); // no longer enrolled
      expect((await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: tok.student })).errors).toBeUndefined();
      expect(await myProgress(course)).toMatchObject({ completedLessons: 1, totalLessons: 2, percent: 50 });
    });

    it('follows lesson cancellations: a cancelled lesson stops counting, marks on it included', async () => {
      const { course, lessons } = await setup();
      await mark(lessons[0]!);
      await mark(lessons[1]!);
      expect(await myProgress(course)).toMatchObject({ completedLessons: 2, totalLessons: 2, percent: 100 });
      const res = await t.gql(
        `mutation($id: ID!) { cancelLesson(id: $id) { status } }`,
        { id: gid('Lesson', lessons[1]!.id) },
        { token: tok.owner },
      );
      expect(res.errors).toBeUndefined();
      expect(await myProgress(course)).toMatchObject({ completedLessons: 1, totalLessons: 1, percent: 100 });
    });
  });

  describe('Course.stats', () => {
    it('aggregates active enrollments, average progress, completions and lessons by status', async () => {
      const { course, lessons } = await setup();
      const second = await t.make.user();
      await t.make.enrollment(second.id, course.id);
      const gone = await t.make.user();
      await t.make.enrollment(gone.id, course.id, { status: 'CANCELLED', cancelledAt: new Date() });
      await mark(lessons[0]!);
      await mark(lessons[1]!);
      const res = await t.gql(STATS, { c: gid('Course', course.id) }, { token: tok.owner });
      expect(res.errors).toBeUndefined();
      expect(res.data.course.stats).toMatchObject({
        activeEnrollments: 2,
        averageProgressPercent: 50, // 100 and 0
        studentsCompleted: 1,
        lessonsByStatus: [
          { status: 'SCHEDULED', count: 2 },
          { status: 'IN_PROGRESS', count: 0 },
          { status: 'COMPLETED', count: 0 },
          { status: 'CANCELLED', count: 1 },
        ],
      });
    });

    it('counts nobody as completed in a course without counted lessons', async () => {
      const course = await t.make.course(owner.id);
      await t.make.enrollment(student.id, course.id);
      const res = await t.gql(STATS, { c: gid('Course', course.id) }, { token: tok.admin });
      expect(res.data.course.stats).toMatchObject({
        activeEnrollments: 1,
        averageProgressPercent: 0,
        studentsCompleted: 0,
      });
    });

    it('is FORBIDDEN with null for students, other instructors and anonymous viewers', async () => {
      const { course } = await setup();
      for (const token of [tok.student, tok.outsiderInstructor, undefined]) {
        const res = await t.gql(STATS, { c: gid('Course', course.id) }, { token });
        expect(codesOf(res)).toEqual(['FORBIDDEN']);
        expect(res.data.course.stats).toBeNull();
      }
    });
  });

  describe('response cache', () => {
    it('serves no stale progress, viewerCompletedAt or statistics after a mark, an enrollment or a lesson change', async () => {
      const { course, lessons } = await setup();
      const c = { c: gid('Course', course.id) };
      const stats = async () => {
        const res = await t.gql(STATS, c, { token: tok.owner });
        expect(res.errors).toBeUndefined();
        return { cache: res.headers.get('x-cache'), stats: res.data.course.stats };
      };
      const lessonQuery = () => t.gql(LESSON, { l: gid('Lesson', lessons[0]!.id) }, { token: tok.student });
      // Warm every entry (the second read is a hit, which proves they are cached).
      await myProgress(course);
      await stats();
      expect((await stats()).cache).toBe('HIT');
      await lessonQuery();
      expect((await lessonQuery()).headers.get('x-cache')).toBe('HIT');
      const roster = () => t.gql(ROSTER, c, { token: tok.owner });
      await roster();
      expect((await roster()).headers.get('x-cache')).toBe('HIT');

      await mark(lessons[0]!);
      expect((await lessonQuery()).data.lesson.viewerCompletedAt).not.toBeNull();
      expect((await myProgress(course)).completedLessons).toBe(1);
      expect((await roster()).data.course.enrollments.edges[0].node.progress.completedLessons).toBe(1);
      expect((await stats()).stats.averageProgressPercent).toBe(50);

      const newcomer = await t.make.user();
      await t.gql(ENROLL, c, { token: await t.tokenFor(newcomer) });
      expect((await stats()).stats.activeEnrollments).toBe(2);

      await t.gql(`mutation($c: ID!) { createLesson(input: { courseId: $c, title: "More" }) { id } }`, c, {
        token: tok.owner,
      });
      expect((await myProgress(course)).totalLessons).toBe(3);
      expect((await stats()).stats.lessonsByStatus[0]).toEqual({ status: 'SCHEDULED', count: 3 });
    });
  });

  describe('cost analysis', () => {
    it('prices statistics, permissions and progress: a page of them costs more than the same page without', async () => {
      const cheap = await t.gql(`{ courses(first: 30) { edges { node { title } } } }`, {}, { token: tok.admin });
      expect(cheap.errors).toBeUndefined();
      for (const q of [
        `{ courses(first: 30) { edges { node { title stats { activeEnrollments } } } } }`,
        `{ courses(first: 40) { edges { node { title viewerCan { update enroll } lessons(first: 2) { edges { node { viewerCan { update } } } } } } } }`,
        `query($c: ID!) { course(id: $c) { enrollments(first: 100) { edges { node { progress { percent } } } } } }`,
      ]) {
        const res = await t.gql(q, { c: gid('Course', (await setup()).course.id) }, { token: tok.admin });
        expect([res.status, res.errors?.[0]?.message], q).toEqual([400, expect.stringMatching(/cost \d+ exceeds/)]);
      }
    });
  });

  describe('User.schedule', () => {
    const at = (days: number) => new Date(Date.UTC(2031, 0, 1) + days * 86_400_000);

    it('lists lessons of taught and actively enrolled courses in [from, to), by time then id, page by page', async () => {
      const learner = await t.make.user();
      const teacher = await t.make.user({ role: 'INSTRUCTOR' });
      const enrolled = await t.make.course(owner.id);
      const left = await t.make.course(owner.id);
      const taught = await t.make.course(teacher.id);
      await t.make.enrollment(learner.id, enrolled.id);
      await t.make.enrollment(learner.id, left.id, { status: 'CANCELLED', cancelledAt: new Date() });
      await t.make.enrollment(learner.id, taught.id);
      await t.make.lesson(enrolled.id, { title: 'e2', scheduledAt: at(2) });
      await t.make.lesson(enrolled.id, { title: 'e1', scheduledAt: at(1), status: 'CANCELLED', cancelledAt: at(0) });
      await t.make.lesson(enrolled.id, { title: 'before', scheduledAt: at(-1) });
      await t.make.lesson(enrolled.id, { title: 'at-to', scheduledAt: at(10) });
      await t.make.lesson(enrolled.id, { title: 'no time' });
      await t.make.lesson(left.id, { title: 'left', scheduledAt: at(3) });
      await t.make.lesson(taught.id, { title: 't3', scheduledAt: at(3) });
      await t.make.lesson(taught.id, { title: 't2', scheduledAt: at(2) });
      const token = await t.tokenFor(learner);
      const args = { u: gid('User', learner.id), from: at(0).toISOString(), to: at(10).toISOString() };
      const titles: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const res: any = await t.gql(SCHEDULE, { ...args, first: 2, after }, { token });
        expect(res.errors).toBeUndefined();
        const s = res.data.user.schedule;
        expect(s.totalCount).toBe(4);
        titles.push(...s.edges.map((e: any) => e.node.title));
        after = s.pageInfo.hasNextPage ? s.pageInfo.endCursor : null;
        pages++;
      } while (after);
      expect(pages).toBe(2);
      // e1 (CANCELLED) included; t2 and e2 share a time and are ordered by id.
      expect(titles[0]).toBe('e1');
      expect(titles.slice(1, 3).sort()).toEqual(['e2', 't2']);
      expect(titles[3]).toBe('t3');

      // The teacher sees their own course's lessons.
      const mine = await t.gql(SCHEDULE, { ...args, u: gid('User', teacher.id) }, { token: await t.tokenFor(teacher) });
      expect(mine.data.user.schedule.edges.map((e: any) => e.node.title)).toEqual(['t2', 't3']);
    });

    it('is only for the user themself (admins and the course instructor FORBIDDEN)', async () => {
      await setup(); // the student is enrolled in the owner's course: the owner sees the student
      for (const token of [tok.admin, tok.owner]) {
        const res = await t.gql(SCHEDULE, { u: gid('User', student.id) }, { token });
        expect(res.data.user).not.toBeNull(); // the user is visible to them, the schedule is not
        expect(codesOf(res)).toEqual(['FORBIDDEN']);
        expect(res.data.user.schedule).toBeNull();
      }
    });

    it('rejects a window longer than a year, an empty window and a foreign cursor with BAD_USER_INPUT naming the field', async () => {
      const u = gid('User', student.id);
      const long = await t.gql(
        SCHEDULE,
        { u, from: at(0).toISOString(), to: at(367).toISOString() },
        { token: tok.student },
      );
      expect(codesOf(long)).toEqual(['BAD_USER_INPUT']);
      expect(long.errors![0]!.extensions!.fieldErrors).toHaveProperty('to');
      const empty = await t.gql(
        SCHEDULE,
        { u, from: at(1).toISOString(), to: at(1).toISOString() },
        { token: tok.student },
      );
      expect(codesOf(empty)).toEqual(['BAD_USER_INPUT']);
      const bad = await t.gql(SCHEDULE, { u, after: 'not-a-cursor' }, { token: tok.student });
      expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
      expect(bad.errors![0]!.extensions!.fieldErrors).toHaveProperty('after');
      expect(bad.status).not.toBe(500);
    });

    it('is served by the (course_id, scheduled_at, id) index', async () => {
      const db = t.app.database.db;
      const plan = await db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_seqscan = off`);
        return rowsOf<Record<string, string>>(
          await tx.execute(sql`explain select * from lessons where course_id in (select id from courses where instructor_id = ${owner.id}::uuid
            union select course_id from enrollments where student_id = ${owner.id}::uuid and status = 'ACTIVE')
            and scheduled_at >= now() and scheduled_at < now() + interval '30 days' order by scheduled_at, id limit 21`),
        );
      });
      expect(plan.map((r) => Object.values(r)[0]).join('\n')).toContain('lessons_course_id_scheduled_at_id_idx');
    });
  });
});
