import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow, LessonRow, UserRow } from '../../src/db/schema.js';
import { newAccount } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Who may do what: every mutation and every guarded field, for each kind of caller, against a
 * fresh world (so a successful delete in one cell cannot change another cell's outcome).
 * 'ok' = no error; a code = exactly that error; 'hidden' = the object is not visible at all.
 */
const ROLES = ['anonymous', 'student', 'enrolled', 'owner', 'other', 'admin'] as const;
type Caller = (typeof ROLES)[number];
type Outcome = 'ok' | 'hidden' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'BAD_USER_INPUT';

interface World {
  course: CourseRow; // PUBLISHED, taught by `owner`, `enrolled` actively enrolled
  draft: CourseRow; // DRAFT, taught by `owner`
  lesson: LessonRow; // in `course`
  enrolled: UserRow;
  target: UserRow; // a student whose role an admin may change
}

interface Case {
  name: string;
  query: string;
  vars: (w: World) => Record<string, unknown>;
  /** For field cases: where the guarded value sits in `data` (undefined: a mutation/query). */
  field?: (data: any) => unknown;
  expect: Record<Caller, Outcome>;
}

const U = 'UNAUTHENTICATED',
  F = 'FORBIDDEN',
  NF = 'NOT_FOUND',
  C = 'CONFLICT';
const row = (...o: Outcome[]) => Object.fromEntries(ROLES.map((r, i) => [r, o[i]!])) as Record<Caller, Outcome>;
const c = (w: World) => gid('Course', w.course.id);
const d = (w: World) => gid('Course', w.draft.id);

const CASES: Case[] = [
  // Accounts
  {
    name: 'register',
    query: `mutation($i: RegisterInput!) { register(input: $i) { accessToken } }`,
    vars: () => ({ i: newAccount() }),
    expect: row('ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  },
  {
    name: 'login (wrong password)',
    query: `mutation($e: String!) { login(input: { email: $e, password: "definitely-wrong-1" }) { accessToken } }`,
    vars: (w) => ({ e: w.target.email }),
    expect: row(U, U, U, U, U, U),
  },
  {
    name: 'refreshSession (unknown token)',
    query: `mutation { refreshSession(input: { refreshToken: "efrt_unknown" }) { accessToken } }`,
    vars: () => ({}),
    expect: row(U, U, U, U, U, U),
  },
  {
    name: 'logout',
    query: `mutation { logout(input: { refreshToken: "efrt_unknown" }) }`,
    vars: () => ({}),
    expect: row('ok', 'ok', 'ok', 'ok', 'ok', 'ok'),
  },
  {
    name: 'updateProfile',
    query: `mutation { updateProfile(input: { displayName: "Renamed" }) { displayName } }`,
    vars: () => ({}),
    expect: row(U, 'ok', 'ok', 'ok', 'ok', 'ok'),
  },
  {
    name: 'changePassword (wrong current)',
    query: `mutation { changePassword(input: { currentPassword: "not-the-current-1", newPassword: "fresh-password-123" }) }`,
    vars: () => ({}),
    expect: row(U, 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT'),
  },
  {
    name: 'setUserRole',
    query: `mutation($u: ID!) { setUserRole(input: { userId: $u, role: INSTRUCTOR }) { role } }`,
    vars: (w) => ({ u: gid('User', w.target.id) }),
    expect: row(U, F, F, F, F, 'ok'),
  },
  { name: 'users', query: `{ users { totalCount } }`, vars: () => ({}), expect: row(U, F, F, F, F, 'ok') },
  // Courses
  {
    name: 'createCourse',
    query: `mutation { createCourse(input: { title: "New" }) { id } }`,
    vars: () => ({}),
    expect: row(U, F, F, 'ok', 'ok', 'ok'),
  },
  {
    name: 'updateCourse (published)',
    query: `mutation($id: ID!) { updateCourse(input: { id: $id, title: "T" }) { id } }`,
    vars: (w) => ({ id: c(w) }),
    expect: row(U, F, F, 'ok', F, 'ok'),
  },
  {
    name: 'updateCourse (draft)',
    query: `mutation($id: ID!) { updateCourse(input: { id: $id, title: "T" }) { id } }`,
    vars: (w) => ({ id: d(w) }),
    expect: row(U, NF, NF, 'ok', NF, 'ok'),
  },
  {
    name: 'publishCourse (draft)',
    query: `mutation($id: ID!) { publishCourse(id: $id) { status } }`,
    vars: (w) => ({ id: d(w) }),
    expect: row(U, NF, NF, 'ok', NF, 'ok'),
  },
  {
    name: 'archiveCourse',
    query: `mutation($id: ID!) { archiveCourse(id: $id) { status } }`,
    vars: (w) => ({ id: c(w) }),
    expect: row(U, F, F, 'ok', F, 'ok'),
  },
  {
    name: 'deleteCourse (draft)',
    query: `mutation($id: ID!) { deleteCourse(id: $id) }`,
    vars: (w) => ({ id: d(w) }),
    expect: row(U, NF, NF, 'ok', NF, 'ok'),
  },
  {
    name: 'deleteCourse (with enrollments)',
    query: `mutation($id: ID!) { deleteCourse(id: $id) }`,
    vars: (w) => ({ id: c(w) }),
    expect: row(U, F, F, C, F, C),
  },
  // Lessons
  {
    name: 'createLesson',
    query: `mutation($id: ID!) { createLesson(input: { courseId: $id, title: "L" }) { id } }`,
    vars: (w) => ({ id: c(w) }),
    expect: row(U, F, F, 'ok', F, 'ok'),
  },
  {
    name: 'updateLesson',
    query: `mutation($id: ID!) { updateLesson(input: { id: $id, title: "L2" }) { id } }`,
    vars: (w) => ({ id: gid('Lesson', w.lesson.id) }),
    expect: row(U, F, F, 'ok', F, 'ok'),
  },
  {
    name: 'deleteLesson',
    query: `mutation($id: ID!) { deleteLesson(id: $id) }`,
    vars: (w) => ({ id: gid('Lesson', w.lesson.id) }),
    expect: row(U, F, F, 'ok', F, 'ok'),
  },
  // Enrollments
  {
    name: 'enroll',
    query: `mutation($id: ID!) { enroll(courseId: $id) { status } }`,
    vars: (w) => ({ id: c(w) }),
    expect: row(U, 'ok', C, F, F, F),
  },
  {
    name: 'unenroll',
    query: `mutation($id: ID!) { unenroll(courseId: $id) { status } }`,
    vars: (w) => ({ id: c(w) }),
    expect: row(U, NF, 'ok', NF, NF, NF),
  },
  // Guarded fields
  {
    name: 'Lesson.content',
    query: `query($id: ID!) { lesson(id: $id) { content } }`,
    vars: (w) => ({ id: gid('Lesson', w.lesson.id) }),
    field: (data) => data.lesson?.content,
    expect: row(F, F, 'ok', 'ok', F, 'ok'),
  },
  {
    name: 'Course.enrollments',
    query: `query($id: ID!) { course(id: $id) { enrollments { totalCount } } }`,
    vars: (w) => ({ id: c(w) }),
    field: (data) => data.course?.enrollments,
    expect: row(F, F, F, 'ok', F, 'ok'),
  },
  {
    name: 'User.email',
    query: `query($id: ID!) { user(id: $id) { email } }`,
    vars: (w) => ({ id: gid('User', w.enrolled.id) }),
    field: (data) => data.user && data.user.email,
    expect: row('hidden', 'hidden', 'ok', F, 'hidden', 'ok'),
  },
  {
    name: 'User.enrollments',
    query: `query($id: ID!) { user(id: $id) { enrollments { totalCount } } }`,
    vars: (w) => ({ id: gid('User', w.enrolled.id) }),
    field: (data) => data.user && data.user.enrollments,
    expect: row('hidden', 'hidden', 'ok', F, 'hidden', 'ok'),
  },
];

describe('role matrix', () => {
  let t: TestApp;
  const users = {} as Record<'student' | 'owner' | 'other' | 'admin', UserRow>;

  beforeAll(async () => {
    t = await startTestApp({ REGISTRATIONS_PER_HOUR: '1000', LOGIN_MAX_ATTEMPTS: '1000' });
    users.student = await t.make.user();
    users.owner = await t.make.user({ role: 'INSTRUCTOR' });
    users.other = await t.make.user({ role: 'INSTRUCTOR' });
    users.admin = await t.make.user({ role: 'ADMIN' });
  });
  afterAll(() => t?.close());

  async function newWorld(): Promise<World> {
    const course = await t.make.course(users.owner.id);
    const draft = await t.make.course(users.owner.id, { status: 'DRAFT' });
    const lesson = await t.make.lesson(course.id);
    const enrolled = await t.make.user();
    await t.make.enrollment(enrolled.id, course.id);
    return { course, draft, lesson, enrolled, target: await t.make.user() };
  }

  async function tokenOf(caller: Caller, w: World): Promise<string | undefined> {
    if (caller === 'anonymous') return undefined;
    return t.tokenFor(caller === 'enrolled' ? w.enrolled : users[caller]);
  }

  const cells = CASES.flatMap((k) => ROLES.map((caller) => [k.name, caller, k] as const));

  it.each(cells)('%s as %s', async (_name, caller, k) => {
    const w = await newWorld();
    const res = await t.gql(k.query, k.vars(w), { token: await tokenOf(caller, w) });
    const expected = k.expect[caller];
    if (k.field) {
      const value = k.field(res.data);
      if (expected === 'hidden') expect(value).toBeNull();
      else if (expected === 'ok') {
        expect(res.errors).toBeUndefined();
        expect(value).not.toBeNull();
      } else {
        expect(value).toBeNull();
        expect(codesOf(res)).toEqual([expected]);
      }
      return;
    }
    if (expected === 'ok') expect(res.errors).toBeUndefined();
    else expect(codesOf(res)).toEqual([expected]);
  });
});
