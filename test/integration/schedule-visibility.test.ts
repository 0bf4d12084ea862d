import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/auth/viewer.js';
import type { UserRow } from '../../src/db/schema.js';
import { createLoaders } from '../../src/loaders.js';
import { CourseService } from '../../src/modules/courses/index.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const SCHEDULE = `{ me { schedule(first: 50) { totalCount edges { node { title course { title status } } } } } }`;

/** What a schedule or an enrollment list shows, and the courses reached through it. */
describe('visibility through schedules and relations', () => {
  let t: TestApp;
  let former: UserRow;
  const soon = () => new Date(Date.now() + 86_400_000);
  beforeAll(async () => {
    t = await startTestApp({ CACHE_ENABLED: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('drops a demoted instructor’s former courses, drafts included, from their schedule', async () => {
    former = await t.make.user({ role: 'INSTRUCTOR' });
    const published = await t.make.course(former.id, { title: 'Published course' });
    const draft = await t.make.course(former.id, { title: 'Hidden draft', status: 'DRAFT' });
    await t.make.lesson(published.id, { title: 'Public lesson', scheduledAt: soon() });
    await t.make.lesson(draft.id, { title: 'Draft lesson', scheduledAt: soon() });
    const teaching = await t.gql(SCHEDULE, undefined, { token: await t.tokenFor(former) });
    expect(teaching.data.me.schedule.totalCount).toBe(2);

    const admin = await t.make.user({ role: 'ADMIN' });
    const demoted = await t.gql(
      `mutation($u: ID!) { setUserRole(input: { userId: $u, role: STUDENT }) { role } }`,
      { u: gid('User', former.id) },
      { token: await t.tokenFor(admin) },
    );
    expect(demoted.data.setUserRole.role).toBe('STUDENT');
    const res = await t.gql(SCHEDULE, undefined, { token: await t.tokenFor({ id: former.id, role: 'STUDENT' }) });
    expect(res.errors).toBeUndefined();
    expect(res.data.me.schedule).toEqual({ totalCount: 0, edges: [] });
    expect(JSON.stringify(res.data)).not.toMatch(/Hidden draft|Draft lesson/);
  });

  it('keeps a student’s enrolled courses in the schedule only while they may see them', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const open = await t.make.course(instructor.id, { title: 'Open course' });
    const archived = await t.make.course(instructor.id, { title: 'Archived course', status: 'ARCHIVED' });
    const draft = await t.make.course(instructor.id, { title: 'Unpublished again', status: 'DRAFT' });
    for (const course of [open, archived, draft]) {
      await t.make.enrollment(student.id, course.id);
      await t.make.lesson(course.id, { title: `${course.title}: lesson`, scheduledAt: soon() });
    }
    const res = await t.gql(SCHEDULE, undefined, { token: await t.tokenFor(student) });
    expect(res.errors).toBeUndefined();
    const titles = res.data.me.schedule.edges.map((e: any) => e.node.course.title).sort();
    expect(titles).toEqual(['Archived course', 'Open course']);
    expect(res.data.me.schedule.totalCount).toBe(2);
  });

  it('never returns a hidden course through a relation (CourseService.related), whoever follows it', async () => {
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const draft = await t.make.course(instructor.id, { title: 'Secret draft', status: 'DRAFT' });
    const archived = await t.make.course(instructor.id, { status: 'ARCHIVED' });
    const open = await t.make.course(instructor.id);
    await t.make.enrollment(student.id, archived.id);
    const service = new CourseService(t.app.database.db);
    const scopeOf = (viewer: Viewer) => ({ viewer, loaders: createLoaders(t.app.database.db, viewer) });
    const as = (user: UserRow): Viewer => ({ userId: user.id, role: user.role, sessionId: null, tokenExpiresAt: null });
    const studentScope = scopeOf(as(student));
    await expect(service.related(studentScope, draft.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await service.related(studentScope, archived.id)).id).toBe(archived.id); // enrolled: visible
    expect((await service.related(studentScope, open.id)).id).toBe(open.id);
    expect((await service.related(scopeOf(as(instructor)), draft.id)).id).toBe(draft.id); // theirs
    const demoted = { ...as(instructor), role: 'STUDENT' as const };
    await expect(service.related(scopeOf(demoted), draft.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
