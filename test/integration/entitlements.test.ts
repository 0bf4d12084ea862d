import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe } from '../helpers/ws-client.js';

const GRANT = `mutation($c: ID!, $s: ID!) { grantCourseAccess(courseId: $c, studentId: $s) {
  id source grantedAt revokedAt course { id } student { id } } }`;
const REVOKE = `mutation($c: ID!, $s: ID!) { revokeCourseAccess(courseId: $c, studentId: $s) { id source revokedAt } }`;
const ENROLL = `mutation($c: ID!) { enroll(courseId: $c) { id status } }`;
const VIEW = `query($c: ID!) { course(id: $c) {
  viewerEntitlement { id source } viewerEnrollment { status } viewerCan { enroll purchase } } }`;

describe('paid access by grant', () => {
  let t: TestApp;
  let owner: UserRow;
  let ownerToken: string;
  let otherInstructorToken: string;
  let adminToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await t.tokenFor(owner);
    otherInstructorToken = await t.tokenFor(await t.make.user({ role: 'INSTRUCTOR' }));
    adminToken = await t.tokenFor(await t.make.user({ role: 'ADMIN' }));
  });
  afterAll(() => t?.close());

  const paidCourse = () => t.make.course(owner.id, { priceCents: 4_900 });
  async function student() {
    const user = await t.make.user();
    return { user, token: await t.tokenFor(user) };
  }
  const ids = (course: CourseRow, user: UserRow) => ({ c: gid('Course', course.id), s: gid('User', user.id) });

  it('refuses a paid course without an entitlement (402), and admits it after a grant', async () => {
    const course = await paidCourse();
    const s = await student();
    const refused = await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: s.token });
    expect(codesOf(refused)).toEqual(['PAYMENT_REQUIRED']);
    expect(refused.status).toBe(402);
    const granted = await t.gql(GRANT, ids(course, s.user), { token: ownerToken });
    expect(granted.errors).toBeUndefined();
    expect(granted.data.grantCourseAccess).toMatchObject({
      source: 'GRANT',
      revokedAt: null,
      course: { id: gid('Course', course.id) },
      student: { id: gid('User', s.user.id) },
    });
    const enrolled = await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: s.token });
    expect(enrolled.data.enroll.status).toBe('ACTIVE');
  });

  it('grants idempotently: a second grant returns the active entitlement', async () => {
    const course = await paidCourse();
    const s = await student();
    const results = await Promise.all([1, 2, 3].map(() => t.gql(GRANT, ids(course, s.user), { token: adminToken })));
    for (const r of results) expect(r.errors).toBeUndefined();
    expect(new Set(results.map((r) => r.data.grantCourseAccess.id)).size).toBe(1);
  });

  it("lets only the course's instructor and admins grant and revoke, on HTTP", async () => {
    const course = await paidCourse();
    const s = await student();
    const other = await student();
    for (const op of [GRANT, REVOKE]) {
      expect(codesOf(await t.gql(op, ids(course, s.user), { token: otherInstructorToken }))).toEqual(['FORBIDDEN']);
      expect(codesOf(await t.gql(op, ids(course, s.user), { token: other.token }))).toEqual(['FORBIDDEN']);
      expect(codesOf(await t.gql(op, ids(course, s.user)))).toEqual(['UNAUTHENTICATED']);
    }
    const admin = await t.gql(GRANT, ids(course, s.user), { token: adminToken });
    expect(admin.errors).toBeUndefined();
  });

  it('refuses over WebSocket what HTTP refuses', async () => {
    const course = await paidCourse();
    const s = await student();
    const run = async (token: string) => {
      const live = liveClient(t.url, { authorization: `Bearer ${token}` });
      try {
        const sub = subscribe(live, GRANT, ids(course, s.user));
        return await sub.next();
      } finally {
        await live.dispose();
      }
    };
    expect((await run(otherInstructorToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await run(s.token)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const ok = await run(ownerToken);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.grantCourseAccess.source).toBe('GRANT');
  });

  it('names the field when the student is not a student, and answers NOT_FOUND for hidden courses', async () => {
    const course = await paidCourse();
    const bad = await t.gql(GRANT, ids(course, owner), { token: ownerToken });
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors![0]!.extensions!.fieldErrors).toEqual({ studentId: 'must name a student' });
    const garbage = await t.gql(GRANT, { c: gid('Course', course.id), s: 'nope' }, { token: ownerToken });
    expect(garbage.errors![0]!.extensions!.fieldErrors).toEqual({ studentId: 'must name a student' });
    const draft = await t.make.course((await t.make.user({ role: 'INSTRUCTOR' })).id, { status: 'DRAFT' });
    const s = await student();
    expect(codesOf(await t.gql(GRANT, ids(draft, s.user), { token: ownerToken }))).toEqual(['NOT_FOUND']);
    expect(codesOf(await t.gql(REVOKE, ids(course, s.user), { token: ownerToken }))).toEqual(['NOT_FOUND']);
  });

  it('revoking ends the entitlement and cancels the active enrollment; enrolling again needs payment', async () => {
    const course = await paidCourse();
    const s = await student();
    await t.gql(GRANT, ids(course, s.user), { token: ownerToken });
    await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: s.token });
    const revoked = await t.gql(REVOKE, ids(course, s.user), { token: ownerToken });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data.revokeCourseAccess.revokedAt).not.toBeNull();
    const rows = rowsOf<{ status: string }>(
      await t.app.database.db.execute(
        sql`select status from enrollments where course_id = ${course.id}::uuid and student_id = ${s.user.id}::uuid`,
      ),
    );
    expect(rows.map((r) => r.status)).toEqual(['CANCELLED']);
    expect(codesOf(await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: s.token }))).toEqual([
      'PAYMENT_REQUIRED',
    ]);
    expect(codesOf(await t.gql(REVOKE, ids(course, s.user), { token: ownerToken }))).toEqual(['NOT_FOUND']);
  });

  it('never leaves a stale cached answer: the same query through the cache after grant, enroll and revoke', async () => {
    const course = await paidCourse();
    const s = await student();
    const view = async () => {
      const res = await t.gql(VIEW, { c: gid('Course', course.id) }, { token: s.token });
      expect(res.errors).toBeUndefined();
      return { ...res.data.course, cache: res.headers.get('x-cache') };
    };
    expect(await view()).toMatchObject({ viewerEntitlement: null, viewerCan: { enroll: false, purchase: true } });
    // Cached now: a second read is a hit, so what follows proves invalidation, not a miss.
    expect((await view()).cache).toBe('HIT');
    await t.gql(GRANT, ids(course, s.user), { token: ownerToken });
    expect(await view()).toMatchObject({
      viewerEntitlement: { source: 'GRANT' },
      viewerEnrollment: null,
      viewerCan: { enroll: true, purchase: false },
    });
    expect((await view()).cache).toBe('HIT');
    await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: s.token });
    expect((await view()).viewerEnrollment).toEqual({ status: 'ACTIVE' });
    expect((await view()).cache).toBe('HIT');
    await t.gql(REVOKE, ids(course, s.user), { token: ownerToken });
    expect(await view()).toMatchObject({
      viewerEntitlement: null,
      viewerEnrollment: { status: 'CANCELLED' },
      viewerCan: { enroll: false, purchase: true },
    });
  });

  it('loads viewerEntitlement for a whole page in a constant number of statements', async () => {
    const s = await student();
    for (let i = 0; i < 12; i++) {
      const c = await paidCourse();
      if (i % 2) await t.make.entitlement(s.user.id, c.id);
    }
    const q = (n: number) =>
      `query { courses(first: ${n}, filter: { free: false }) { edges { node { id viewerEntitlement { id source } } } } }`;
    const small = await t.countQueries(() => t.gql(q(2), {}, { token: s.token }));
    const large = await t.countQueries(() => t.gql(q(12), {}, { token: s.token }));
    expect(large.result.errors).toBeUndefined();
    const got = large.result.data.courses.edges.filter((e: any) => e.node.viewerEntitlement).length;
    expect(got).toBeGreaterThan(0);
    expect(large.statements).toBe(small.statements);
  });

  it('shows an entitlement through node(id:) to its student and the course instructor only', async () => {
    const course = await paidCourse();
    const s = await student();
    const id = (await t.gql(GRANT, ids(course, s.user), { token: ownerToken })).data.grantCourseAccess.id;
    const q = `query($id: ID!) { node(id: $id) { ... on Entitlement { id source } } }`;
    expect((await t.gql(q, { id }, { token: s.token })).data.node).toEqual({ id, source: 'GRANT' });
    expect((await t.gql(q, { id }, { token: ownerToken })).data.node).toEqual({ id, source: 'GRANT' });
    expect((await t.gql(q, { id }, { token: otherInstructorToken })).data.node).toBeNull();
    expect((await t.gql(q, { id }, { token: (await student()).token })).data.node).toBeNull();
  });

  it("stops the student's open lesson subscription when access is revoked", async () => {
    const course = await paidCourse();
    const s = await student();
    await t.gql(GRANT, ids(course, s.user), { token: ownerToken });
    await t.gql(ENROLL, { c: gid('Course', course.id) }, { token: s.token });
    const live = liveClient(t.url, { authorization: `Bearer ${s.token}` });
    const watcher = liveClient(t.url, { authorization: `Bearer ${ownerToken}` });
    try {
      const SUB = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { lesson { title } } }`;
      const sub = subscribe(live, SUB, { c: gid('Course', course.id) });
      const sentinel = subscribe(watcher, SUB, { c: gid('Course', course.id) });
      const create = (title: string) =>
        t.gql(
          `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`,
          { c: gid('Course', course.id), t: title },
          { token: ownerToken },
        );
      await primed([sub, sentinel], () => create('warm-up'));
      await t.gql(REVOKE, ids(course, s.user), { token: ownerToken });
      await create('after revoke');
      // The instructor's subscription receives the event: by then the student's would have too.
      expect((await sentinel.next()).data.lessonStatusChanged.lesson.title).toBe('after revoke');
      await sub.quiet(200);
      expect(JSON.stringify(sub.results)).not.toContain('after revoke');
    } finally {
      await live.dispose();
      await watcher.dispose();
    }
  });
});
