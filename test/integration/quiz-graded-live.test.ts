import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { createQuiz, fourKinds, rightAnswers, START, SUBMIT } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe, type LiveClient } from '../helpers/ws-client.js';

const GRADED = `subscription($c: ID!) { quizAttemptGraded(courseId: $c) { id status scorePercent student { id } } }`;
const STATS = `subscription($c: ID!) { courseStatsChanged(courseId: $c) { averageQuizPercent certificatesIssued } }`;

/**
 * The live feeds of graded attempts over a real graphql-ws connection: who may follow them is
 * decided again at every event, from the database as it is then (a token still valid says
 * nothing about the course's instructor now, or the user's role now).
 */
describe('quizAttemptGraded and courseStatsChanged over WebSocket', () => {
  let t: TestApp;
  let owner: UserRow;
  let course: { id: string };
  let quiz: Awaited<ReturnType<typeof createQuiz>>;
  const sockets: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.dispose()));
  });
  afterAll(() => t?.close());

  async function freshCourse() {
    course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    quiz = await createQuiz(t, await t.tokenFor(owner), lesson.id, fourKinds());
  }

  /** A new enrolled student starts and submits an attempt (all right, or all wrong): one graded event. */
  async function gradeOne(right = true): Promise<{ attemptId: string; studentId: string }> {
    const student = await t.make.user();
    await t.make.enrollment(student.id, course.id);
    const token = await t.tokenFor(student);
    const attempt = (await t.gql(START, { q: quiz.id }, { token })).data.startQuizAttempt;
    const res = await t.gql(
      SUBMIT,
      { input: { attemptId: attempt.id, answers: right ? rightAnswers(quiz) : [] } },
      { token },
    );
    expect(res.errors).toBeUndefined();
    return { attemptId: attempt.id, studentId: student.id };
  }

  async function socketOf(user: UserRow) {
    const socket = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(user)}` });
    sockets.push(socket);
    await socket.connected;
    return socket;
  }

  it('delivers graded attempts to the instructor, and stops once the course has another instructor', async () => {
    await freshCourse();
    const sub = subscribe(await socketOf(owner), GRADED, { c: gid('Course', course.id) });
    await primed(sub, () => gradeOne());
    const graded = await gradeOne(false);
    expect((await sub.next()).data.quizAttemptGraded).toMatchObject({
      id: expect.any(String),
      status: 'SUBMITTED',
      scorePercent: 0,
      student: { id: gid('User', graded.studentId) },
    });
    const delivered = sub.results.length;

    // The course changes hands; the old instructor's token and socket stay valid.
    const successor = await t.make.user({ role: 'INSTRUCTOR' });
    await t.app.database.db.execute(sql`update courses set instructor_id = ${successor.id} where id = ${course.id}`);
    await gradeOne();
    // The next event ends the subscription instead of reaching the former instructor.
    expect(await sub.ended).toBe('complete');
    expect(sub.results).toHaveLength(delivered);
  }, 60_000);

  it('stops delivering to an admin demoted meanwhile', async () => {
    await freshCourse();
    const admin = await t.make.user({ role: 'ADMIN' });
    const sub = subscribe(await socketOf(admin), GRADED, { c: gid('Course', course.id) });
    await primed(sub, () => gradeOne());
    await gradeOne();
    expect((await sub.next()).data.quizAttemptGraded.status).toBe('SUBMITTED');
    const delivered = sub.results.length;

    // Demoted in the database only: no session is revoked, so the socket stays open.
    await t.app.database.db.execute(sql`update users set role = 'STUDENT' where id = ${admin.id}`);
    await gradeOne();
    expect(await sub.ended).toBe('complete');
    expect(sub.results).toHaveLength(delivered);
  }, 60_000);

  it('refuses students, enrolled or not', async () => {
    await freshCourse();
    const enrolled = await t.make.user();
    await t.make.enrollment(enrolled.id, course.id);
    for (const user of [enrolled, await t.make.user()]) {
      const sub = subscribe(await socketOf(user), GRADED, { c: gid('Course', course.id) });
      // graphql-ws reports a refused subscription as an error message or as one result with errors.
      const ended = await sub.ended;
      const errors = (Array.isArray(ended) ? ended : sub.results[0]?.errors) as Array<{
        extensions?: { code?: string };
      }>;
      expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(sub.results.filter((r) => r.data?.quizAttemptGraded)).toEqual([]);
    }
  }, 60_000);

  it('courseStatsChanged follows graded attempts: the average quiz percent moves with each', async () => {
    await freshCourse();
    const sub = subscribe(await socketOf(owner), STATS, { c: gid('Course', course.id) });
    // First the statistics as they are now.
    expect((await sub.next(10_000)).data.courseStatsChanged).toEqual({
      averageQuizPercent: null,
      certificatesIssued: 0,
    });
    await gradeOne(true);
    await expect
      .poll(() => sub.results.at(-1)?.data.courseStatsChanged.averageQuizPercent, { timeout: 10_000 })
      .toBe(100);
    await gradeOne(false);
    await expect
      .poll(() => sub.results.at(-1)?.data.courseStatsChanged.averageQuizPercent, { timeout: 10_000 })
      .toBe(50);
  }, 60_000);
});
