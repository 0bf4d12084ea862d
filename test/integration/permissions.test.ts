import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow, LessonRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startStripeStandIn, type StripeStandIn } from '../helpers/stripe-stand-in.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const STRIPE_KEY = 'sk_test_permissions';

/**
 * `viewerCan` against what the API actually does, cell by cell: for every caller, every flag and
 * every kind of course or lesson, a fresh world is made, the flag is read as that caller, then
 * the corresponding mutation (or guarded read) is attempted as that caller. The flag must be
 * true exactly when the attempt succeeds.
 */
const CALLERS = ['anonymous', 'student', 'enrolled', 'other', 'owner', 'admin'] as const;
type Caller = (typeof CALLERS)[number];

interface World {
  course: CourseRow;
  lesson: LessonRow;
  enrolled: UserRow;
}

interface WorldKind {
  status: 'PUBLISHED' | 'DRAFT' | 'ARCHIVED';
  enroll: boolean;
  lessonStatus: 'SCHEDULED' | 'IN_PROGRESS' | 'CANCELLED';
  /** A paid course (priceCents > 0). */
  paid?: boolean;
  /** The `student` and `enrolled` callers hold an active entitlement (a grant) to it. */
  entitled?: boolean;
}

/** The kinds of course the flags are checked on. */
const WORLDS: Record<string, WorldKind> = {
  'published, with an enrolled student': { status: 'PUBLISHED', enroll: true, lessonStatus: 'SCHEDULED' },
  'published, nobody enrolled': { status: 'PUBLISHED', enroll: false, lessonStatus: 'SCHEDULED' },
  draft: { status: 'DRAFT', enroll: false, lessonStatus: 'SCHEDULED' },
  archived: { status: 'ARCHIVED', enroll: true, lessonStatus: 'IN_PROGRESS' },
  'with a CANCELLED lesson': { status: 'PUBLISHED', enroll: true, lessonStatus: 'CANCELLED' },
  'paid, nobody entitled': { status: 'PUBLISHED', enroll: false, lessonStatus: 'SCHEDULED', paid: true },
  'paid, students entitled, one enrolled': {
    status: 'PUBLISHED',
    enroll: true,
    lessonStatus: 'SCHEDULED',
    paid: true,
    entitled: true,
  },
  // Enrolled while it was free (or by an admin's data fix): enrolled, no entitlement.
  'paid, enrolled without an entitlement': { status: 'PUBLISHED', enroll: true, lessonStatus: 'SCHEDULED', paid: true },
  'paid, draft': { status: 'DRAFT', enroll: false, lessonStatus: 'SCHEDULED', paid: true, entitled: true },
};

const c = (w: World) => ({ id: gid('Course', w.course.id) });
const l = (w: World) => ({ id: gid('Lesson', w.lesson.id) });

/** Flag → the operation it predicts (a mutation, or a read of a guarded field). */
interface Op {
  query: string;
  vars: (w: World) => Record<string, unknown>;
  /** Reads only: the guarded value was produced (a hidden object answers null, no error). */
  got?: (data: any) => unknown;
}
const COURSE_FLAGS: Record<string, Op> = {
  update: { query: `mutation($id: ID!) { updateCourse(input: { id: $id, title: "Renamed" }) { id } }`, vars: c },
  publish: { query: `mutation($id: ID!) { publishCourse(id: $id) { id } }`, vars: c },
  archive: { query: `mutation($id: ID!) { archiveCourse(id: $id) { id } }`, vars: c },
  delete: { query: `mutation($id: ID!) { deleteCourse(id: $id) }`, vars: c },
  manageLessons: {
    query: `mutation($id: ID!) { createLesson(input: { courseId: $id, title: "New" }) { id } }`,
    vars: c,
  },
  enroll: { query: `mutation($id: ID!) { enroll(courseId: $id) { id } }`, vars: c },
  // Against a local stand-in of Stripe's checkout endpoint (test/helpers/stripe-stand-in.ts).
  purchase: { query: `mutation($id: ID!) { startCheckout(courseId: $id) { url } }`, vars: c },
  unenroll: { query: `mutation($id: ID!) { unenroll(courseId: $id) { id } }`, vars: c },
  readEnrollments: {
    query: `query($id: ID!) { course(id: $id) { enrollments(first: 5) { totalCount } } }`,
    vars: c,
    got: (d) => d?.course?.enrollments,
  },
  readStats: {
    query: `query($id: ID!) { course(id: $id) { stats { activeEnrollments } } }`,
    vars: c,
    got: (d) => d?.course?.stats,
  },
};
const LESSON_FLAGS: Record<string, Op> = {
  update: { query: `mutation($id: ID!) { updateLesson(input: { id: $id, title: "Renamed" }) { id } }`, vars: l },
  delete: { query: `mutation($id: ID!) { deleteLesson(id: $id) }`, vars: l },
  readContent: { query: `query($id: ID!) { lesson(id: $id) { content } }`, vars: l, got: (d) => d?.lesson?.content },
  markCompleted: { query: `mutation($id: ID!) { markLessonCompleted(lessonId: $id) { id } }`, vars: l },
};

describe('viewerCan walks the role matrix', () => {
  let t: TestApp;
  const users = {} as Record<'student' | 'other' | 'owner' | 'admin', UserRow>;
  const tokens = new Map<string, string>();

  let stripe: StripeStandIn;

  beforeAll(async () => {
    stripe = await startStripeStandIn(STRIPE_KEY);
    t = await startTestApp({ STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_URL: stripe.url });
    users.student = await t.make.user();
    users.other = await t.make.user({ role: 'INSTRUCTOR' });
    users.owner = await t.make.user({ role: 'INSTRUCTOR' });
    users.admin = await t.make.user({ role: 'ADMIN' });
    for (const u of Object.values(users)) tokens.set(u.id, await t.tokenFor(u));
  });
  afterAll(async () => {
    await t?.close();
    await stripe?.close();
  });

  const makeWorld = async (kind: WorldKind): Promise<World> => {
    const course = await t.make.course(users.owner.id, { status: kind.status, priceCents: kind.paid ? 2_500 : 0 });
    const lesson = await t.make.lesson(course.id, {
      status: kind.lessonStatus,
      ...(kind.lessonStatus === 'CANCELLED' ? { cancelledAt: new Date() } : {}),
      ...(kind.lessonStatus === 'IN_PROGRESS' ? { startedAt: new Date() } : {}),
    });
    const enrolled = await t.make.user();
    tokens.set(enrolled.id, await t.tokenFor(enrolled));
    if (kind.enroll) await t.make.enrollment(enrolled.id, course.id);
    if (kind.entitled) {
      await t.make.entitlement(enrolled.id, course.id);
      await t.make.entitlement(users.student.id, course.id);
    }
    return { course, lesson, enrolled };
  };
  const tokenOf = (caller: Caller, w: World) =>
    caller === 'anonymous' ? undefined : tokens.get(caller === 'enrolled' ? w.enrolled.id : users[caller].id);

  const walk = async (on: 'course' | 'lesson') => {
    const flags = on === 'course' ? COURSE_FLAGS : LESSON_FLAGS;
    const read =
      on === 'course'
        ? `query($id: ID!) { course(id: $id) { viewerCan { ${Object.keys(flags).join(' ')} } } }`
        : `query($id: ID!) { lesson(id: $id) { viewerCan { ${Object.keys(flags).join(' ')} } } }`;
    const mismatches: string[] = [];
    let cells = 0;
    let allowedCells = 0;
    for (const [worldName, kind] of Object.entries(WORLDS)) {
      for (const caller of CALLERS) {
        // Each cell on a world of its own (a delete in one cannot change another), run side by side.
        await Promise.all(
          Object.entries(flags).map(async ([flag, op]) => {
            const w = await makeWorld(kind);
            const token = tokenOf(caller, w);
            const asked = await t.gql(read, on === 'course' ? c(w) : l(w), { token });
            expect(asked.errors).toBeUndefined();
            const subject = on === 'course' ? asked.data.course : asked.data.lesson;
            // A hidden course answers no flags; every operation on it must then fail too.
            const predicted: boolean = subject === null ? false : subject.viewerCan[flag];
            const res = await t.gql(op.query, op.vars(w), { token });
            const did =
              res.errors === undefined && res.status === 200 && (!op.got || (op.got(res.data) ?? null) !== null);
            cells++;
            if (predicted) allowedCells++;
            if (predicted !== did) {
              mismatches.push(
                `${worldName} / ${caller} / ${flag}: viewerCan=${predicted}, did=${did} ${JSON.stringify(res.errors?.[0]?.extensions?.code ?? '')}`,
              );
            }
          }),
        );
      }
    }
    expect(mismatches).toEqual([]);
    return { cells, allowedCells };
  };

  it('Course.viewerCan: every flag equals what its mutation or guarded read does', async () => {
    const { cells, allowedCells } = await walk('course');
    expect(cells).toBe(Object.keys(WORLDS).length * CALLERS.length * Object.keys(COURSE_FLAGS).length);
    // The matrix is not all-false (or all-true): both answers occur and were checked.
    expect(allowedCells).toBeGreaterThan(20);
    expect(allowedCells).toBeLessThan(cells - 20);
  }, 120_000);

  it('Lesson.viewerCan: every flag equals what its mutation or guarded read does', async () => {
    const { cells, allowedCells } = await walk('lesson');
    expect(cells).toBe(Object.keys(WORLDS).length * CALLERS.length * Object.keys(LESSON_FLAGS).length);
    expect(allowedCells).toBeGreaterThan(10);
    expect(allowedCells).toBeLessThan(cells - 10);
  }, 120_000);

  it('answers per viewer: the same course gives different flags to its owner and to a student', async () => {
    const w = await makeWorld(WORLDS['published, with an enrolled student']!);
    const q = `query($id: ID!) { course(id: $id) { viewerCan { update enroll unenroll readStats } } }`;
    const owner = await t.gql(q, c(w), { token: tokenOf('owner', w) });
    const student = await t.gql(q, c(w), { token: tokenOf('student', w) });
    const enrolled = await t.gql(q, c(w), { token: tokenOf('enrolled', w) });
    expect(owner.data.course.viewerCan).toEqual({ update: true, enroll: false, unenroll: false, readStats: true });
    expect(student.data.course.viewerCan).toEqual({ update: false, enroll: true, unenroll: false, readStats: false });
    expect(enrolled.data.course.viewerCan).toEqual({ update: false, enroll: false, unenroll: true, readStats: false });
  });

  it('answers per viewer on a paid course: pay, then enroll once entitled', async () => {
    const w = await makeWorld(WORLDS['paid, nobody entitled']!);
    const q = `query($id: ID!) { course(id: $id) { viewerCan { enroll purchase } viewerEntitlement { source } } }`;
    const before = await t.gql(q, c(w), { token: tokenOf('student', w) });
    expect(before.data.course).toEqual({ viewerCan: { enroll: false, purchase: true }, viewerEntitlement: null });
    const anonymous = await t.gql(q, c(w));
    expect(anonymous.data.course.viewerCan).toEqual({ enroll: false, purchase: false });
    // Through the API (not a factory): the student's cached answer must be dropped by the grant.
    const grant = await t.gql(
      `mutation($c: ID!, $s: ID!) { grantCourseAccess(courseId: $c, studentId: $s) { id } }`,
      { c: gid('Course', w.course.id), s: gid('User', users.student.id) },
      { token: tokenOf('owner', w) },
    );
    expect(grant.errors).toBeUndefined();
    const after = await t.gql(q, c(w), { token: tokenOf('student', w) });
    expect(after.data.course).toEqual({
      viewerCan: { enroll: true, purchase: false },
      viewerEntitlement: { source: 'GRANT' },
    });
  });
});
