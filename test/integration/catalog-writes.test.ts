import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { courses, enrollments, lessons, type UserRow } from '../../src/db/schema.js';
import { uuidOf } from '../../src/graphql/global-id.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CREATE = `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id slug title description priceCents status publishedAt instructor { id } } }`;
const UPDATE = `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { id title description priceCents } }`;
const PUBLISH = `mutation($id: ID!) { publishCourse(id: $id) { status publishedAt } }`;
const ARCHIVE = `mutation($id: ID!) { archiveCourse(id: $id) { status } }`;
const DELETE = `mutation($id: ID!) { deleteCourse(id: $id) }`;
const CREATE_LESSON = `mutation($input: CreateLessonInput!) { createLesson(input: $input) { id title position status scheduledAt durationMinutes content } }`;
const UPDATE_LESSON = `mutation($input: UpdateLessonInput!) { updateLesson(input: $input) { id title position content durationMinutes } }`;
const DELETE_LESSON = `mutation($id: ID!) { deleteLesson(id: $id) }`;
const ENROLL = `mutation($c: ID!) { enroll(courseId: $c) { id status enrolledAt cancelledAt course { id } student { id } } }`;
const UNENROLL = `mutation($c: ID!) { unenroll(courseId: $c) { id status cancelledAt } }`;

describe('catalog writes', () => {
  let t: TestApp;
  let instructor: UserRow;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(instructor);
  });
  afterAll(() => t?.close());

  const create = async (input: Record<string, unknown>) =>
    (await t.gql(CREATE, { input }, { token })).data?.createCourse;
  const published = async () => {
    const c = await create({ title: 'Published course' });
    await t.gql(PUBLISH, { id: c.id }, { token });
    return c;
  };

  describe('courses', () => {
    it('creates a DRAFT owned by the caller, with defaults', async () => {
      const c = await create({ title: '  Sourdough Basics  ' });
      expect(c).toMatchObject({
        title: 'Sourdough Basics',
        slug: 'sourdough-basics',
        description: '',
        priceCents: 0,
        status: 'DRAFT',
        publishedAt: null,
        instructor: { id: gid('User', instructor.id) },
      });
    });

    it('derives unique slugs from titles, suffixing when taken', async () => {
      const slugs = [];
      for (let i = 0; i < 3; i++) slugs.push((await create({ title: 'Knife Skills' })).slug);
      expect(slugs).toEqual(['knife-skills', 'knife-skills-2', 'knife-skills-3']);
      expect((await create({ title: 'Crème Brûlée 101!' })).slug).toBe('creme-brulee-101');
      expect((await create({ title: '日本語' })).slug).toMatch(/^course(-\d+)?$/);
    });

    it('gives concurrent creations with the same title distinct slugs', async () => {
      const made = await Promise.all(Array.from({ length: 5 }, () => create({ title: 'Race Condition' })));
      expect(new Set(made.map((c) => c.slug)).size).toBe(5);
    });

    it('validates an explicit slug and answers CONFLICT when it is taken', async () => {
      expect((await create({ title: 'X', slug: 'my-course' })).slug).toBe('my-course');
      const taken = await t.gql(CREATE, { input: { title: 'Y', slug: 'my-course' } }, { token });
      expect(codesOf(taken)).toEqual(['CONFLICT']);
      const bad = await t.gql(CREATE, { input: { title: 'Y', slug: 'Not OK!' } }, { token });
      expect(bad.errors![0]!.extensions!.fieldErrors).toHaveProperty('slug');
    });

    it('enforces every limit, naming each field', async () => {
      const res = await t.gql(
        CREATE,
        { input: { title: 'x'.repeat(201), description: 'd'.repeat(20_001), priceCents: -1 } },
        { token },
      );
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(Object.keys(res.errors![0]!.extensions!.fieldErrors).sort()).toEqual([
        'description',
        'priceCents',
        'title',
      ]);
      const tooDear = await t.gql(CREATE, { input: { title: 'ok', priceCents: 10_000_001 } }, { token });
      expect(tooDear.errors![0]!.extensions!.fieldErrors).toHaveProperty('priceCents');
      const blank = await t.gql(CREATE, { input: { title: '   ' } }, { token });
      expect(blank.errors![0]!.extensions!.fieldErrors).toEqual({ title: 'must not be empty' });
      expect((await create({ title: 'Max', description: 'd'.repeat(20_000), priceCents: 10_000_000 })).priceCents).toBe(
        10_000_000,
      );
    });

    it('updates only the fields given', async () => {
      const c = await create({ title: 'Before', description: 'keep me', priceCents: 500 });
      const res = await t.gql(UPDATE, { input: { id: c.id, title: 'After', priceCents: null } }, { token });
      expect(res.data.updateCourse).toEqual({ id: c.id, title: 'After', description: 'keep me', priceCents: 500 });
      const bad = await t.gql(UPDATE, { input: { id: c.id, priceCents: -5 } }, { token });
      expect(bad.errors![0]!.extensions!.fieldErrors).toHaveProperty('priceCents');
    });

    it('publishes once (setting publishedAt), archives, and republishes', async () => {
      const c = await create({ title: 'Lifecycle' });
      const p = (await t.gql(PUBLISH, { id: c.id }, { token })).data.publishCourse;
      expect(p.status).toBe('PUBLISHED');
      expect(p.publishedAt).not.toBeNull();
      expect((await t.gql(PUBLISH, { id: c.id }, { token })).data.publishCourse.publishedAt).toBe(p.publishedAt);
      expect((await t.gql(ARCHIVE, { id: c.id }, { token })).data.archiveCourse.status).toBe('ARCHIVED');
      expect((await t.gql(PUBLISH, { id: c.id }, { token })).data.publishCourse).toEqual(p);
    });

    it('refuses to delete a course with active enrollments, and deletes it with its lessons otherwise', async () => {
      const c = await published();
      await t.gql(CREATE_LESSON, { input: { courseId: c.id, title: 'L1' } }, { token });
      const student = await t.make.user();
      const studentToken = await t.tokenFor(student);
      await t.gql(ENROLL, { c: c.id }, { token: studentToken });
      const refused = await t.gql(DELETE, { id: c.id }, { token });
      expect(refused.errors![0]!.extensions).toEqual({ code: 'CONFLICT', activeEnrollments: 1 });
      expect(
        await t.app.database.db
          .select()
          .from(lessons)
          .where(eq(lessons.courseId, uuidOf('Course', c.id)!)),
      ).toHaveLength(1);
      await t.gql(UNENROLL, { c: c.id }, { token: studentToken });
      expect((await t.gql(DELETE, { id: c.id }, { token })).data.deleteCourse).toBe(c.id);
      expect(
        await t.app.database.db
          .select()
          .from(lessons)
          .where(eq(lessons.courseId, uuidOf('Course', c.id)!)),
      ).toEqual([]);
      expect(
        (await t.gql(`query($id: ID!) { course(id: $id) { id } }`, { id: c.id }, { token })).data.course,
      ).toBeNull();
    });

    it('answers NOT_FOUND for ids that name nothing', async () => {
      for (const id of ['garbage', gid('Course', '00000000-0000-4000-8000-000000000000'), gid('User', instructor.id)]) {
        expect(codesOf(await t.gql(PUBLISH, { id }, { token }))).toEqual(['NOT_FOUND']);
      }
    });

    it('leaves nothing behind when a write fails', async () => {
      const before = (await t.app.database.db.select().from(courses)).length;
      await t.gql(CREATE, { input: { title: '', priceCents: -1 } }, { token });
      await t.gql(CREATE, { input: { title: 'dup', slug: 'my-course' } }, { token });
      expect((await t.app.database.db.select().from(courses)).length).toBe(before);
    });
  });

  describe('lessons', () => {
    it('appends lessons at the end unless a position is given, keeping positions contiguous', async () => {
      const c = await create({ title: 'Lesson host' });
      const positions = [];
      for (const title of ['a', 'b'])
        positions.push(
          (await t.gql(CREATE_LESSON, { input: { courseId: c.id, title } }, { token })).data.createLesson.position,
        );
      positions.push(
        (await t.gql(CREATE_LESSON, { input: { courseId: c.id, title: 'c', position: 10 } }, { token })).data
          .createLesson.position,
      );
      positions.push(
        (await t.gql(CREATE_LESSON, { input: { courseId: c.id, title: 'd' } }, { token })).data.createLesson.position,
      );
      // Position 10 in a course of two lessons means last: positions stay contiguous from 0.
      expect(positions).toEqual([0, 1, 2, 3]);
    });

    it('creates SCHEDULED lessons with their schedule and validates limits', async () => {
      const c = await create({ title: 'Lesson limits' });
      const at = new Date(Date.now() + 86_400_000).toISOString();
      const ok = await t.gql(
        CREATE_LESSON,
        {
          input: {
            courseId: c.id,
            title: ' Intro ',
            scheduledAt: at,
            durationMinutes: 1440,
            content: 'c'.repeat(100_000),
          },
        },
        { token },
      );
      expect(ok.data.createLesson).toMatchObject({
        title: 'Intro',
        status: 'SCHEDULED',
        scheduledAt: at,
        durationMinutes: 1440,
      });
      const bad = await t.gql(
        CREATE_LESSON,
        { input: { courseId: c.id, title: '', content: 'c'.repeat(100_001), position: 10_001, durationMinutes: 0 } },
        { token },
      );
      expect(Object.keys(bad.errors![0]!.extensions!.fieldErrors).sort()).toEqual([
        'content',
        'durationMinutes',
        'position',
        'title',
      ]);
      const badDate = await t.gql(
        CREATE_LESSON,
        { input: { courseId: c.id, title: 'x', scheduledAt: 'tomorrow' } },
        { token },
      );
      expect(codesOf(badDate)).toEqual(['BAD_USER_INPUT']);
    });

    it('updates and deletes lessons', async () => {
      const c = await create({ title: 'Edit host' });
      const l = (await t.gql(CREATE_LESSON, { input: { courseId: c.id, title: 'Old' } }, { token })).data.createLesson;
      const u = await t.gql(UPDATE_LESSON, { input: { id: l.id, title: 'New', durationMinutes: 30 } }, { token });
      expect(u.data.updateLesson).toMatchObject({ title: 'New', position: 0, durationMinutes: 30 });
      expect((await t.gql(DELETE_LESSON, { id: l.id }, { token })).data.deleteLesson).toBe(l.id);
      expect(codesOf(await t.gql(DELETE_LESSON, { id: l.id }, { token }))).toEqual(['NOT_FOUND']);
    });
  });

  describe('enrollments', () => {
    it('enrolls a student once; unenrolling cancels; enrolling again reactivates', async () => {
      const c = await published();
      const student = await t.make.user();
      const st = await t.tokenFor(student);
      const first = (await t.gql(ENROLL, { c: c.id }, { token: st })).data.enroll;
      expect(first).toMatchObject({
        status: 'ACTIVE',
        cancelledAt: null,
        course: { id: c.id },
        student: { id: gid('User', student.id) },
      });
      expect(codesOf(await t.gql(ENROLL, { c: c.id }, { token: st }))).toEqual(['CONFLICT']);
      const cancelled = (await t.gql(UNENROLL, { c: c.id }, { token: st })).data.unenroll;
      expect(cancelled.status).toBe('CANCELLED');
      expect(cancelled.cancelledAt).not.toBeNull();
      expect(codesOf(await t.gql(UNENROLL, { c: c.id }, { token: st }))).toEqual(['NOT_FOUND']);
      const again = (await t.gql(ENROLL, { c: c.id }, { token: st })).data.enroll;
      expect(again).toMatchObject({ id: first.id, status: 'ACTIVE', cancelledAt: null });
    });

    it('takes PUBLISHED courses only', async () => {
      const st = await t.tokenFor(await t.make.user());
      const draft = await create({ title: 'Still a draft' });
      expect(codesOf(await t.gql(ENROLL, { c: draft.id }, { token: st }))).toEqual(['NOT_FOUND']);
      const c = await published();
      await t.gql(ARCHIVE, { id: c.id }, { token });
      expect(codesOf(await t.gql(ENROLL, { c: c.id }, { token: st }))).toEqual(['NOT_FOUND']); // archived and not enrolled: hidden
    });

    it('keeps enrolled students in an archived course, and refuses new ones', async () => {
      const c = await published();
      await t.gql(CREATE_LESSON, { input: { courseId: c.id, title: 'Kept', content: 'still readable' } }, { token });
      const enrolled = await t.tokenFor(await t.make.user());
      await t.gql(ENROLL, { c: c.id }, { token: enrolled });
      await t.gql(ARCHIVE, { id: c.id }, { token });
      const view = await t.gql(
        `query($id: ID!) { course(id: $id) { status lessons { edges { node { content } } } } }`,
        { id: c.id },
        { token: enrolled },
      );
      expect(view.data.course).toEqual({
        status: 'ARCHIVED',
        lessons: { edges: [{ node: { content: 'still readable' } }] },
      });
      expect(codesOf(await t.gql(ENROLL, { c: c.id }, { token: enrolled }))).toEqual(['CONFLICT']);
    });

    it('lets exactly one of 20 parallel enrollments of a student through', async () => {
      const c = await published();
      const student = await t.make.user();
      const st = await t.tokenFor(student);
      const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(ENROLL, { c: c.id }, { token: st })));
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(results.flatMap(codesOf).sort()).toEqual(Array(19).fill('CONFLICT'));
      const rows = await t.app.database.db.select().from(enrollments).where(eq(enrollments.studentId, student.id));
      expect(rows).toHaveLength(1);
    });

    it('lets exactly one of 20 parallel re-enrollments reactivate', async () => {
      const c = await published();
      const student = await t.make.user();
      const st = await t.tokenFor(student);
      await t.gql(ENROLL, { c: c.id }, { token: st });
      await t.gql(UNENROLL, { c: c.id }, { token: st });
      const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(ENROLL, { c: c.id }, { token: st })));
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      const rows = await t.app.database.db.select().from(enrollments).where(eq(enrollments.studentId, student.id));
      expect(rows.map((r) => r.status)).toEqual(['ACTIVE']);
    });
  });
});
