import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow, EnrollmentRow, LessonRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Who sees what. Every viewer is checked through every entry point (by id, node, slug,
 * lists, counts, an instructor's coursesTaught), because a hidden object must behave exactly
 * like a missing one everywhere.
 */
describe('visibility', () => {
  let t: TestApp;
  let owner: UserRow, other: UserRow, admin: UserRow, enrolled: UserRow, outsider: UserRow, dropped: UserRow;
  let draft: CourseRow, published: CourseRow, archived: CourseRow, archivedEmpty: CourseRow;
  const lessonOf: Record<string, LessonRow> = {};
  let enrollment: EnrollmentRow;
  const tokens: Record<string, string | undefined> = {};

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    other = await t.make.user({ role: 'INSTRUCTOR' });
    admin = await t.make.user({ role: 'ADMIN' });
    enrolled = await t.make.user();
    outsider = await t.make.user();
    dropped = await t.make.user();
    draft = await t.make.course(owner.id, { status: 'DRAFT', title: 'Draft' });
    published = await t.make.course(owner.id, { status: 'PUBLISHED', title: 'Published' });
    archived = await t.make.course(owner.id, { status: 'ARCHIVED', title: 'Archived' });
    archivedEmpty = await t.make.course(owner.id, { status: 'ARCHIVED', title: 'Archived empty' });
    for (const c of [draft, published, archived, archivedEmpty]) lessonOf[c.title] = await t.make.lesson(c.id);
    enrollment = await t.make.enrollment(enrolled.id, published.id);
    await t.make.enrollment(enrolled.id, archived.id);
    await t.make.enrollment(dropped.id, archived.id, { status: 'CANCELLED', cancelledAt: new Date() });
    for (const [name, user] of Object.entries({ owner, other, admin, enrolled, outsider, dropped })) {
      tokens[name] = await t.tokenFor(user);
    }
    tokens.anonymous = undefined;
  });
  afterAll(() => t?.close());

  const expectedTitles: Record<string, string[]> = {
    anonymous: ['Published'],
    outsider: ['Published'],
    dropped: ['Published'],
    enrolled: ['Archived', 'Published'],
    other: ['Published'],
    owner: ['Archived', 'Archived empty', 'Draft', 'Published'],
    admin: ['Archived', 'Archived empty', 'Draft', 'Published'],
  };

  describe.each(Object.keys(expectedTitles))('as %s', (viewer) => {
    const visible = (title: string) => expectedTitles[viewer]!.includes(title);
    const all = () => [draft, published, archived, archivedEmpty];

    it('lists and counts exactly the visible courses', async () => {
      const res = await t.gql(
        `query($f: CourseFilter) { courses(filter: $f, orderBy: { field: TITLE, direction: ASC }) { totalCount edges { node { title } } } }`,
        { f: { instructorId: gid('User', owner.id) } },
        { token: tokens[viewer] },
      );
      expect(res.data.courses.edges.map((e: any) => e.node.title)).toEqual(expectedTitles[viewer]);
      expect(res.data.courses.totalCount).toBe(expectedTitles[viewer]!.length);
    });

    it('resolves course, node and slug only for visible courses', async () => {
      for (const c of all()) {
        const res = await t.gql(
          `query($id: ID!, $slug: String!) { course(id: $id) { title } node(id: $id) { id } courseBySlug(slug: $slug) { title } }`,
          { id: gid('Course', c.id), slug: c.slug },
          { token: tokens[viewer] },
        );
        expect(res.errors).toBeUndefined();
        const want = visible(c.title);
        expect([c.title, res.data.course !== null, res.data.node !== null, res.data.courseBySlug !== null]).toEqual([
          c.title,
          want,
          want,
          want,
        ]);
      }
    });

    it('lets lessons follow their course', async () => {
      for (const c of all()) {
        const id = gid('Lesson', lessonOf[c.title]!.id);
        const res = await t.gql(
          `query($id: ID!) { lesson(id: $id) { id } node(id: $id) { id } }`,
          { id },
          { token: tokens[viewer] },
        );
        expect([c.title, res.data.lesson !== null, res.data.node !== null]).toEqual([
          c.title,
          visible(c.title),
          visible(c.title),
        ]);
      }
    });

    it("counts only visible courses in an instructor's coursesTaught", async () => {
      const res = await t.gql(
        `query($id: ID!) { user(id: $id) { coursesTaught(first: 10) { totalCount edges { node { title } } } } }`,
        { id: gid('User', owner.id) },
        { token: tokens[viewer] },
      );
      const taught = res.data.user.coursesTaught;
      expect(taught.totalCount).toBe(expectedTitles[viewer]!.length);
      expect(taught.edges.map((e: any) => e.node.title).sort()).toEqual(expectedTitles[viewer]);
    });
  });

  describe('field-level guards', () => {
    const CONTENT = `query($id: ID!) { lesson(id: $id) { title content } }`;

    it.each([
      ['enrolled', true],
      ['owner', true],
      ['admin', true],
      ['outsider', false],
      ['other', false],
      ['anonymous', false],
    ])('Lesson.content for %s: readable=%s', async (viewer, readable) => {
      const res = await t.gql(CONTENT, { id: gid('Lesson', lessonOf.Published!.id) }, { token: tokens[viewer] });
      expect(res.data.lesson.title).toBe(lessonOf.Published!.title);
      if (readable) {
        expect(res.errors).toBeUndefined();
        expect(res.data.lesson.content).toBe('Secret lesson notes');
      } else {
        expect(res.data.lesson.content).toBeNull();
        expect(codesOf(res)).toEqual(['FORBIDDEN']);
        expect(res.errors![0]!.path).toEqual(['lesson', 'content']);
        expect(res.status).toBe(200);
      }
    });

    it('hides lesson content from a student whose enrollment was cancelled', async () => {
      const res = await t.gql(CONTENT, { id: gid('Lesson', lessonOf.Published!.id) }, { token: tokens.dropped });
      expect(res.data.lesson.content).toBeNull();
    });

    it.each([
      ['enrolled', true],
      ['admin', true],
      ['owner', false],
      ['outsider', false],
    ])('User.email of a student for %s: readable=%s', async (viewer, readable) => {
      const res = await t.gql(
        `query($id: ID!) { user(id: $id) { email } }`,
        { id: gid('User', enrolled.id) },
        { token: tokens[viewer] },
      );
      if (viewer === 'outsider') {
        expect(res.data.user).toBeNull(); // students are not public
        return;
      }
      expect(res.data.user.email).toBe(readable ? enrolled.email : null);
      expect(codesOf(res)).toEqual(readable ? [] : ['FORBIDDEN']);
    });

    it.each([
      ['owner', true],
      ['admin', true],
      ['other', false],
      ['enrolled', false],
      ['anonymous', false],
    ])('Course.enrollments for %s: readable=%s', async (viewer, readable) => {
      const res = await t.gql(
        `query($id: ID!) { course(id: $id) { title enrollments { totalCount edges { node { student { displayName } status } } } } }`,
        { id: gid('Course', published.id) },
        { token: tokens[viewer] },
      );
      expect(res.data.course.title).toBe('Published');
      if (readable) {
        expect(res.data.course.enrollments.totalCount).toBe(1);
        expect(res.data.course.enrollments.edges[0].node.student.displayName).toBe(enrolled.displayName);
      } else {
        expect(res.data.course.enrollments).toBeNull();
        expect(codesOf(res)).toEqual(['FORBIDDEN']);
      }
    });

    it.each([
      ['enrolled', true],
      ['admin', true],
      ['owner', false],
    ])('User.enrollments for %s: readable=%s', async (viewer, readable) => {
      const res = await t.gql(
        `query($id: ID!) { user(id: $id) { enrollments { totalCount edges { node { course { title } } } } } }`,
        { id: gid('User', enrolled.id) },
        { token: tokens[viewer] },
      );
      if (readable) expect(res.data.user.enrollments.totalCount).toBe(2);
      else expect(codesOf(res)).toEqual(['FORBIDDEN']);
    });
  });

  describe('enrollments and users', () => {
    it.each([
      ['enrolled', true],
      ['owner', true],
      ['admin', true],
      ['other', false],
      ['outsider', false],
      ['anonymous', false],
    ])('enrollment(id) for %s: visible=%s', async (viewer, visible) => {
      const id = gid('Enrollment', enrollment.id);
      const res = await t.gql(
        `query($id: ID!) { enrollment(id: $id) { status course { title } } node(id: $id) { id } }`,
        { id },
        { token: tokens[viewer] },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.enrollment !== null).toBe(visible);
      expect(res.data.node !== null).toBe(visible);
      if (visible) expect(res.data.enrollment).toEqual({ status: 'ACTIVE', course: { title: 'Published' } });
    });

    it.each([
      ['anonymous', false],
      ['other', false],
      ['owner', false],
      ['outsider', true],
      ['admin', true],
    ])('a student with no enrollments is visible to %s: %s', async (viewer, visible) => {
      const res = await t.gql(
        `query($id: ID!) { user(id: $id) { id } }`,
        { id: gid('User', outsider.id) },
        { token: tokens[viewer] },
      );
      expect(res.data.user !== null).toBe(visible);
    });

    it('shows an enrolled student to the instructor of their course', async () => {
      const res = await t.gql(
        `query($id: ID!) { user(id: $id) { displayName } }`,
        { id: gid('User', enrolled.id) },
        { token: tokens.owner },
      );
      expect(res.data.user.displayName).toBe(enrolled.displayName);
    });

    it('shows instructors to everyone', async () => {
      const res = await t.gql(`query($id: ID!) { user(id: $id) { displayName role } }`, { id: gid('User', owner.id) });
      expect(res.data.user).toEqual({ displayName: owner.displayName, role: 'INSTRUCTOR' });
    });

    it('gives the viewer their own enrollment through Course.viewerEnrollment', async () => {
      const q = `query($id: ID!) { course(id: $id) { viewerEnrollment { status student { id } } } }`;
      const mine = await t.gql(q, { id: gid('Course', published.id) }, { token: tokens.enrolled });
      expect(mine.data.course.viewerEnrollment).toEqual({
        status: 'ACTIVE',
        student: { id: gid('User', enrolled.id) },
      });
      const none = await t.gql(q, { id: gid('Course', published.id) }, { token: tokens.outsider });
      expect(none.data.course.viewerEnrollment).toBeNull();
      const anon = await t.gql(q, { id: gid('Course', published.id) });
      expect(anon.data.course.viewerEnrollment).toBeNull();
    });

    it('answers me with the signed-in user and null when anonymous', async () => {
      const me = await t.gql(`{ me { id role email } }`, {}, { token: tokens.enrolled });
      expect(me.data.me).toEqual({ id: gid('User', enrolled.id), role: 'STUDENT', email: enrolled.email });
      const anon = await t.gql(`{ me { id } }`);
      expect(anon.data.me).toBeNull();
      expect(anon.errors).toBeUndefined();
    });

    it('lets only admins list users', async () => {
      const q = `query($f: UserFilter) { users(first: 100, filter: $f) { totalCount edges { node { id role } } } }`;
      const asAdmin = await t.gql(q, { f: { role: 'INSTRUCTOR' } }, { token: tokens.admin });
      expect(asAdmin.data.users.totalCount).toBe(2);
      const search = await t.gql(q, { f: { search: enrolled.email.toUpperCase() } }, { token: tokens.admin });
      expect(search.data.users.edges.map((e: any) => e.node.id)).toEqual([gid('User', enrolled.id)]);
      const wildcard = await t.gql(q, { f: { search: '%' } }, { token: tokens.admin });
      expect(wildcard.data.users.totalCount).toBe(0);
      const asStudent = await t.gql(q, {}, { token: tokens.enrolled });
      expect(codesOf(asStudent)).toEqual(['FORBIDDEN']);
      expect(asStudent.status).toBe(403);
      const anon = await t.gql(q, {});
      expect(codesOf(anon)).toEqual(['UNAUTHENTICATED']);
      expect(anon.status).toBe(401);
    });
  });
});

describe('enrollments in courses that became hidden', () => {
  it('disappear with the course for the student whose enrollment was cancelled', async () => {
    const t = await startTestApp();
    try {
      const owner = await t.make.user({ role: 'INSTRUCTOR' });
      const student = await t.make.user();
      const archived = await t.make.course(owner.id, { status: 'ARCHIVED' });
      const open = await t.make.course(owner.id);
      const gone = await t.make.enrollment(student.id, archived.id, { status: 'CANCELLED', cancelledAt: new Date() });
      await t.make.enrollment(student.id, open.id, { status: 'CANCELLED', cancelledAt: new Date() });
      const token = await t.tokenFor(student);
      const byId = await t.gql(
        `query($id: ID!) { enrollment(id: $id) { id } }`,
        { id: gid('Enrollment', gone.id) },
        { token },
      );
      expect(byId.data.enrollment).toBeNull();
      const list = await t.gql(
        `{ me { enrollments { totalCount edges { node { course { title } } } } } }`,
        {},
        { token },
      );
      expect(list.data.me.enrollments).toEqual({ totalCount: 1, edges: [{ node: { course: { title: open.title } } }] });
      const asOwner = await t.gql(
        `query($id: ID!) { enrollment(id: $id) { status } }`,
        { id: gid('Enrollment', gone.id) },
        { token: await t.tokenFor(owner) },
      );
      expect(asOwner.data.enrollment).toEqual({ status: 'CANCELLED' });
    } finally {
      await t.close();
    }
  });
});
