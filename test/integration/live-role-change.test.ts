import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users, type UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe, type LiveClient } from '../helpers/ws-client.js';

const SUB = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { title allowedTransitions } } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;

/**
 * The fan-out authorizes each event for all subscribers at once (courseAccessExceptions): a
 * subscriber whose role in the database is no longer the one its token names comes back as an
 * exception and is judged by its current role. A role change normally also closes the user's
 * sockets (over pub/sub); here the role is changed in the database alone, as if that message
 * were lost, so the socket stays open and only the per-event check stands between it and events.
 */
describe('live delivery after a role change the socket was not told about', () => {
  let t: TestApp;
  let owner: UserRow;
  let ownerToken: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await t.tokenFor(owner);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.close();
  });

  const connect = async (user: UserRow) => {
    const c = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(user)}` });
    clients.push(c);
    return c;
  };

  it('stops delivering to a demoted admin, and delivers with the current role to a promoted student', async () => {
    const course = await t.make.course(owner.id);
    const bystander = await t.make.user();
    const demoted = await t.make.user({ role: 'ADMIN' });
    const promoted = await t.make.user();
    await t.make.enrollment(bystander.id, course.id);
    await t.make.enrollment(promoted.id, course.id);
    const c = gid('Course', course.id);
    const newLesson = (title: string) => t.gql(CREATE_LESSON, { c, t: title }, { token: ownerToken });
    const watching = subscribe(await connect(bystander), SUB, { c });
    const admin = subscribe(await connect(demoted), SUB, { c });
    const student = subscribe(await connect(promoted), SUB, { c });
    await primed([watching, admin, student], () => newLesson('warm-up'));

    await t.app.database.db.update(users).set({ role: 'STUDENT' }).where(eq(users.id, demoted.id));
    await t.app.database.db.update(users).set({ role: 'ADMIN' }).where(eq(users.id, promoted.id));
    await newLesson('after the change');

    const seen = (await watching.next()).data.lessonStatusChanged;
    expect(seen.lesson).toEqual({ title: 'after the change', allowedTransitions: [] });
    // Now a student who is not enrolled: nothing.
    expect(await admin.quiet(500)).toBe(true);
    // Now an admin: the event, read as an admin reads it (admins may drive any lesson).
    const asAdmin = (await student.next()).data.lessonStatusChanged;
    expect(asAdmin.lesson.title).toBe('after the change');
    expect(asAdmin.lesson.allowedTransitions).toEqual(['IN_PROGRESS', 'CANCELLED']);
  });
});
