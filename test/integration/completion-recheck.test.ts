import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { queryRows } from '../helpers/notifications.js';
import { createQuiz, fourKinds, rightAnswers, START, SUBMIT } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const MARK = `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id } }`;
const CANCEL = `mutation($id: ID!) { cancelLesson(id: $id, reason: "Room unavailable") { id status } }`;
const DELETE_LESSON = `mutation($id: ID!) { deleteLesson(id: $id) }`;
const UPDATE_QUIZ = `mutation($input: UpdateQuizInput!) { updateQuiz(input: $input) { id required } }`;
const DELETE_QUIZ = `mutation($id: ID!) { deleteQuiz(id: $id) }`;
const PROGRESS = `query { me { enrollments(first: 10) { edges { node { course { id }
  progress { completedLessons totalLessons requiredQuizzes passedRequiredQuizzes completed completedAt } } } } } }`;

/**
 * The contract's rule (every counted lesson marked, every required quiz passed) can start to
 * hold without the student doing anything: a lesson cancelled or deleted, a required quiz made
 * optional or deleted. The completion (and so the certificate) is recorded then, in the same
 * transaction as the change; a requirement added later binds those who have not completed yet.
 */
describe('completion re-checked when what completing a course takes changes', () => {
  let t: TestApp;
  let owner: UserRow;
  let ownerToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await t.tokenFor(owner);
  });
  afterAll(() => t?.close());

  async function student(courseId: string) {
    const user = await t.make.user();
    await t.make.enrollment(user.id, courseId);
    const token = await t.tokenFor(user);
    return {
      user,
      token,
      mark: async (lessonId: string) =>
        expect((await t.gql(MARK, { l: gid('Lesson', lessonId) }, { token })).errors).toBeUndefined(),
      progress: async () => {
        const res = await t.gql(PROGRESS, {}, { token });
        expect(res.errors).toBeUndefined();
        return res.data.me.enrollments.edges.find((e: any) => e.node.course.id === gid('Course', courseId)).node
          .progress;
      },
      pass: async (quiz: Awaited<ReturnType<typeof createQuiz>>) => {
        const attempt = (await t.gql(START, { q: quiz.id }, { token })).data.startQuizAttempt;
        const res = await t.gql(SUBMIT, { input: { attemptId: attempt.id, answers: rightAnswers(quiz) } }, { token });
        expect(res.data.submitQuizAttempt.passed).toBe(true);
      },
    };
  }

  /** The `course.completed` outbox events of a course (each leads the worker to one certificate). */
  const completions = (courseId: string) =>
    queryRows<{ student_id: string }>(
      t.app.database.db,
      sql`select payload->>'studentId' as student_id from outbox
        where type = 'course.completed' and payload->>'courseId' = ${courseId}`,
    );

  it('a lesson cancelled completes the course for the students who marked every other lesson', async () => {
    const course = await t.make.course(owner.id);
    const [l1, l2] = [await t.make.lesson(course.id, { position: 0 }), await t.make.lesson(course.id, { position: 1 })];
    const done = await student(course.id);
    const behind = await student(course.id);
    await done.mark(l1!.id);
    expect(await done.progress()).toMatchObject({ completed: false, completedAt: null });

    const res = await t.gql(CANCEL, { id: gid('Lesson', l2!.id) }, { token: ownerToken });
    expect(res.errors).toBeUndefined();
    expect(await done.progress()).toMatchObject({ totalLessons: 1, completed: true });
    expect((await done.progress()).completedAt).not.toBeNull();
    expect(await behind.progress()).toMatchObject({ completed: false, completedAt: null });
    expect(await completions(course.id)).toEqual([{ student_id: done.user.id }]);
  });

  it('a lesson deleted completes the course for the students who marked every other lesson', async () => {
    const course = await t.make.course(owner.id);
    const [l1, l2] = [await t.make.lesson(course.id, { position: 0 }), await t.make.lesson(course.id, { position: 1 })];
    const done = await student(course.id);
    await done.mark(l1!.id);

    expect((await t.gql(DELETE_LESSON, { id: gid('Lesson', l2!.id) }, { token: ownerToken })).errors).toBeUndefined();
    expect(await done.progress()).toMatchObject({ totalLessons: 1, completed: true });
    expect((await done.progress()).completedAt).not.toBeNull();
    expect(await completions(course.id)).toEqual([{ student_id: done.user.id }]);
  });

  it('a required quiz made optional completes the course for the students who did everything else', async () => {
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    const quiz = await createQuiz(t, ownerToken, lesson.id, fourKinds({ required: true }));
    const done = await student(course.id);
    await done.mark(lesson.id);
    expect(await done.progress()).toMatchObject({ requiredQuizzes: 1, completed: false, completedAt: null });

    const res = await t.gql(UPDATE_QUIZ, { input: { id: quiz.id, required: false } }, { token: ownerToken });
    expect(res.errors).toBeUndefined();
    expect(await done.progress()).toMatchObject({ requiredQuizzes: 0, completed: true });
    expect((await done.progress()).completedAt).not.toBeNull();
    expect(await completions(course.id)).toEqual([{ student_id: done.user.id }]);
  });

  it('a required quiz deleted completes the course for the students who did everything else', async () => {
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    const quiz = await createQuiz(t, ownerToken, lesson.id, fourKinds({ required: true }));
    const done = await student(course.id);
    await done.mark(lesson.id);

    expect((await t.gql(DELETE_QUIZ, { id: quiz.id }, { token: ownerToken })).errors).toBeUndefined();
    expect(await done.progress()).toMatchObject({ requiredQuizzes: 0, completed: true });
    expect((await done.progress()).completedAt).not.toBeNull();
    expect(await completions(course.id)).toEqual([{ student_id: done.user.id }]);
  });

  it('a lesson cancelled while a student unenrolls: both go through (no lock taken in the opposite order)', async () => {
    const course = await t.make.course(owner.id);
    const [l1, l2] = [await t.make.lesson(course.id, { position: 0 }), await t.make.lesson(course.id, { position: 1 })];
    const leaving = await student(course.id);
    await leaving.mark(l1!.id);
    // An unenrollment on its own connection: its enrollment row first (the lock its UPDATE takes),
    // then, through the count trigger, the course row.
    const other = postgres(t.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await other.begin(async (tx) => {
        await tx`select id from enrollments where student_id = ${leaving.user.id} and course_id = ${course.id} for no key update`;
        const cancelled = t.gql(CANCEL, { id: gid('Lesson', l2!.id) }, { token: ownerToken });
        let done = false;
        void cancelled.finally(() => (done = true));
        // The cancellation is done, or waits for a lock (the enrollment row this connection holds).
        await expect
          .poll(
            async () =>
              done ||
              (
                await tx`select count(*)::int as n from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock'`
              )[0]!.n > 0,
            { timeout: 10_000 },
          )
          .toBe(true);
        await tx`select id from courses where id = ${course.id} for no key update`; // the count trigger's lock
        await tx`update enrollments set status = 'CANCELLED', cancelled_at = now()
          where student_id = ${leaving.user.id} and course_id = ${course.id}`;
        expect((await cancelled).errors).toBeUndefined();
      });
    } finally {
      await other.end();
    }
  });

  it('a required quiz added binds the students who have not completed; a recorded completion stays', async () => {
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    const early = await student(course.id);
    const late = await student(course.id);
    await early.mark(lesson.id);
    const completedAt = (await early.progress()).completedAt;
    expect(completedAt).not.toBeNull();

    const quiz = await createQuiz(t, ownerToken, lesson.id, fourKinds({ required: true }));
    await late.mark(lesson.id);
    expect(await late.progress()).toMatchObject({ requiredQuizzes: 1, completed: false, completedAt: null });
    await late.pass(quiz);
    expect(await late.progress()).toMatchObject({ passedRequiredQuizzes: 1, completed: true });
    // The early student's completion (and certificate) is not taken back; it is not recorded twice.
    expect(await early.progress()).toMatchObject({ completedAt });
    expect((await completions(course.id)).map((r) => r.student_id).sort()).toEqual(
      [early.user.id, late.user.id].sort(),
    );
  });

  it('a student who left and comes back after the course changed is completed on enrolling again', async () => {
    const course = await t.make.course(owner.id);
    const [l1, l2] = [await t.make.lesson(course.id, { position: 0 }), await t.make.lesson(course.id, { position: 1 })];
    const away = await student(course.id);
    await away.mark(l1!.id);
    const enrollment = `{ id status }`;
    const left = await t.gql(
      `mutation($c: ID!) { unenroll(courseId: $c) ${enrollment} }`,
      { c: gid('Course', course.id) },
      { token: away.token },
    );
    expect(left.errors).toBeUndefined();
    // Cancelled while they were away: the course-wide re-check passes over inactive enrollments.
    expect((await t.gql(CANCEL, { id: gid('Lesson', l2!.id) }, { token: ownerToken })).errors).toBeUndefined();
    expect(await completions(course.id)).toEqual([]);

    const back = await t.gql(
      `mutation($c: ID!) { enroll(courseId: $c) ${enrollment} }`,
      { c: gid('Course', course.id) },
      { token: away.token },
    );
    expect(back.errors).toBeUndefined();
    expect(back.data.enroll.status).toBe('ACTIVE');
    expect(await away.progress()).toMatchObject({ totalLessons: 1, completedLessons: 1, completed: true });
    expect(await completions(course.id)).toEqual([{ student_id: away.user.id }]);
  });
});
