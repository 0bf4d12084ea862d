import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LessonRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { queryRows } from '../helpers/notifications.js';
import { CREATE_QUIZ, START, SAVE, SUBMIT, createQuiz, fourKinds, rightAnswers } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const UPDATE = `mutation($input: UpdateQuizInput!) { updateQuiz(input: $input) { id title questionCount } }`;
const UNENROLL = `mutation($c: ID!) { unenroll(courseId: $c) { id } }`;

describe('quizzes: authoring and attempts graded on the server', () => {
  let t: TestApp;
  let owner: UserRow, student: UserRow, other: UserRow, admin: UserRow, stranger: UserRow;
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    student = await t.make.user();
    other = await t.make.user();
    stranger = await t.make.user({ role: 'INSTRUCTOR' });
    admin = await t.make.user({ role: 'ADMIN' });
    for (const [name, u] of Object.entries({ owner, student, other, admin, stranger })) tok[name] = await t.tokenFor(u);
  });
  afterAll(() => t?.close());

  /**
   * A published course with one lesson; a fresh student (and `other`) actively enrolled: each
   * test's attempts count against its own students' attempt throttle.
   */
  const setup = async () => {
    student = await t.make.user();
    other = await t.make.user();
    tok.student = await t.tokenFor(student);
    tok.other = await t.tokenFor(other);
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    await t.make.enrollment(student.id, course.id);
    await t.make.enrollment(other.id, course.id);
    return { course, lesson };
  };
  const create = (lesson: LessonRow, input: Record<string, unknown>, who = 'owner') =>
    t.gql(CREATE_QUIZ, { input: { lessonId: gid('Lesson', lesson.id), ...input } }, { token: tok[who] });
  const start = (quizId: string, who = 'student') => t.gql(START, { q: quizId }, { token: tok[who] });
  const submit = (attemptId: string, answers: unknown[], who = 'student') =>
    t.gql(SUBMIT, { input: { attemptId, answers } }, { token: tok[who] });

  describe('authoring', () => {
    it('creates a quiz for the course instructor and an admin, FORBIDDEN for a student and another instructor', async () => {
      const { lesson } = await setup();
      const ok = await create(lesson, fourKinds());
      expect(ok.errors).toBeUndefined();
      expect(ok.data.createQuiz).toMatchObject({ questionCount: 4, totalPoints: 4, required: false });
      expect((await create(lesson, fourKinds(), 'admin')).errors).toBeUndefined();
      expect(codesOf(await create(lesson, fourKinds(), 'student'))).toEqual(['FORBIDDEN']);
      expect(codesOf(await create(lesson, fourKinds(), 'stranger'))).toEqual(['FORBIDDEN']);
    });

    it('names the field path of every invalid question with BAD_USER_INPUT', async () => {
      const { lesson } = await setup();
      const bad = fourKinds({
        passPercent: 101,
        timeLimitSeconds: 5,
        questions: [
          ...fourKinds().questions,
          {
            kind: 'SINGLE_CHOICE',
            prompt: 'Two right?',
            choices: [
              { text: 'a', correct: true },
              { text: 'b', correct: true },
            ],
          },
          {
            kind: 'MULTIPLE_CHOICE',
            prompt: 'None right?',
            choices: [
              { text: 'a', correct: false },
              { text: 'b', correct: false },
            ],
          },
          { kind: 'SINGLE_CHOICE', prompt: 'One choice', choices: [{ text: 'a', correct: true }] },
          { kind: 'SHORT_TEXT', prompt: 'No answers', acceptedAnswers: [] },
          { kind: 'NUMERIC', prompt: 'Not a number', acceptedAnswers: ['abc'], tolerance: -1 },
          { kind: 'SHORT_TEXT', prompt: '', acceptedAnswers: ['x'], points: 0 },
        ],
      });
      const res = await create(lesson, bad);
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      const fields = res.errors![0]!.extensions!.fieldErrors;
      expect(Object.keys(fields).sort()).toEqual(
        [
          'input.passPercent',
          'input.timeLimitSeconds',
          'input.questions[4].choices',
          'input.questions[5].choices',
          'input.questions[6].choices',
          'input.questions[7].acceptedAnswers',
          'input.questions[8].acceptedAnswers',
          'input.questions[8].tolerance',
          'input.questions[9].prompt',
          'input.questions[9].points',
        ].sort(),
      );
      expect(fields['input.questions[4].choices']).toMatch(/exactly one correct/);
      expect(res.errors![0]!.message).toContain('input.questions[4].choices');
      const none = await create(lesson, fourKinds({ questions: [] }));
      expect(res.status).toBe(400);
      expect(Object.keys(none.errors![0]!.extensions!.fieldErrors)).toEqual(['input.questions']);
      // Nothing was written.
      const [{ n }] = (await queryRows<{ n: number }>(
        t.app.database.db,
        sql`select count(*)::int as n from quizzes where lesson_id = ${lesson.id}`,
      )) as [{ n: number }];
      expect(n).toBe(0);
    });

    it('freezes the questions once an attempt was submitted (CONFLICT), settings stay editable', async () => {
      const { lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds());
      const changeQuestions = { id: quiz.id, questions: fourKinds().questions.slice(0, 2) };
      expect(
        (await t.gql(UPDATE, { input: changeQuestions }, { token: tok.owner })).data.updateQuiz.questionCount,
      ).toBe(2);
      const updated = await t.gql(
        UPDATE,
        { input: { id: quiz.id, questions: fourKinds().questions } },
        { token: tok.owner },
      );
      expect(updated.errors).toBeUndefined();
      const attempt = (await start(quiz.id)).data.startQuizAttempt;
      expect((await submit(attempt.id, [])).errors).toBeUndefined();
      expect(codesOf(await t.gql(UPDATE, { input: changeQuestions }, { token: tok.owner }))).toEqual(['CONFLICT']);
      const renamed = await t.gql(UPDATE, { input: { id: quiz.id, title: 'Renamed' } }, { token: tok.owner });
      expect(renamed.data.updateQuiz.title).toBe('Renamed');
    });
  });

  describe('attempts', () => {
    it('resumes the attempt in progress instead of starting another; two parallel starts make one attempt', async () => {
      const { lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds());
      const [a, b] = await Promise.all([start(quiz.id), start(quiz.id)]);
      expect(a.errors).toBeUndefined();
      expect(b.errors).toBeUndefined();
      expect(a.data.startQuizAttempt.id).toBe(b.data.startQuizAttempt.id);
      expect((await start(quiz.id)).data.startQuizAttempt.id).toBe(a.data.startQuizAttempt.id);
      const [{ n }] = (await queryRows<{ n: number }>(
        t.app.database.db,
        sql`select count(*)::int as n from quiz_attempts where student_id = ${student.id}`,
      )) as [{ n: number }];
      expect(n).toBe(1);
    });

    it('enforces maxAttempts under concurrency: of parallel starts after the last attempt, none gets one', async () => {
      const { lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds({ maxAttempts: 2 }));
      for (let i = 0; i < 2; i++) {
        const attempt = (await start(quiz.id, 'other')).data.startQuizAttempt;
        expect(attempt.number).toBe(i + 1);
        expect((await submit(attempt.id, [], 'other')).errors).toBeUndefined();
      }
      const results = await Promise.all([start(quiz.id, 'other'), start(quiz.id, 'other'), start(quiz.id, 'other')]);
      for (const r of results) expect(codesOf(r)).toEqual(['CONFLICT']);
      const [{ n }] = (await queryRows<{ n: number }>(
        t.app.database.db,
        sql`select count(*)::int as n from quiz_attempts where student_id = ${other.id} and quiz_id = (select id from quizzes where lesson_id = ${lesson.id})`,
      )) as [{ n: number }];
      expect(n).toBe(2);
    });

    it('refuses students who are not actively enrolled, and a student unenrolled mid-attempt cannot submit', async () => {
      const { course, lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds());
      expect(codesOf(await start(quiz.id, 'stranger'))).toEqual(['FORBIDDEN']);
      const attempt = (await start(quiz.id)).data.startQuizAttempt;
      expect((await t.gql(UNENROLL, { c: gid('Course', course.id) }, { token: tok.student })).errors).toBeUndefined();
      const res = await submit(attempt.id, rightAnswers(quiz));
      expect(codesOf(res)).toEqual(['FORBIDDEN']);
      const [row] = await queryRows<{ status: string }>(
        t.app.database.db,
        sql`select status from quiz_attempts where student_id = ${student.id} and quiz_id in (select id from quizzes where lesson_id = ${lesson.id})`,
      );
      expect(row!.status).toBe('IN_PROGRESS');
    });

    it('grades by the contract: single choice, all-and-only multiple choice, normalised text, numeric tolerance', async () => {
      const { lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds());
      const [single, multi, text, numeric] = quiz.questions;
      const right = rightAnswers(quiz);
      const attempt = (await start(quiz.id)).data.startQuizAttempt;
      // Saved answers count at submission; a later save of the same question replaces it.
      const saved = await t.gql(
        SAVE,
        { input: { attemptId: attempt.id, answers: [{ questionId: text!.id, text: 'atlantic' }] } },
        { token: tok.student },
      );
      expect(saved.data.saveQuizAnswers).toEqual({
        id: attempt.id,
        status: 'IN_PROGRESS',
        scorePoints: null,
        results: null,
      });
      await t.gql(
        SAVE,
        { input: { attemptId: attempt.id, answers: [{ questionId: text!.id, text: '  PACIFIC    ocean ' }] } },
        { token: tok.student },
      );
      const res = await submit(attempt.id, [
        right[0],
        // Only one of the two right choices: wrong (all and only).
        { questionId: multi!.id, choiceIds: [multi!.choices.find((c) => c.correct)!.id] },
        { questionId: numeric!.id, number: 3.144 },
      ]);
      expect(res.errors).toBeUndefined();
      const graded = res.data.submitQuizAttempt;
      expect(graded).toMatchObject({ status: 'SUBMITTED', scorePoints: 3, scorePercent: 75, passed: true });
      expect(graded.results.map((r: any) => [r.question.id, r.correct, r.pointsAwarded])).toEqual([
        [single!.id, true, 1],
        [multi!.id, false, 0],
        [text!.id, true, 1],
        [numeric!.id, true, 1],
      ]);
      expect(graded.results[2].given).toBe('  PACIFIC    ocean ');
      // Idempotent: submitting again returns the graded attempt unchanged, whatever it carries.
      const again = await submit(attempt.id, right);
      expect(again.data.submitQuizAttempt).toEqual(graded);
    });

    it('checks answers against the question shapes with field paths', async () => {
      const { lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds());
      const attempt = (await start(quiz.id)).data.startQuizAttempt;
      const other = await createQuiz(t, tok.owner!, lesson.id, fourKinds());
      const res = await t.gql(
        SAVE,
        {
          input: {
            attemptId: attempt.id,
            answers: [
              { questionId: quiz.questions[0]!.id, choiceIds: quiz.questions[0]!.choices.map((c) => c.id) },
              { questionId: quiz.questions[1]!.id, choiceIds: [other.questions[1]!.choices[0]!.id] },
              { questionId: quiz.questions[2]!.id, text: 'x'.repeat(1_001) },
              { questionId: other.questions[3]!.id, number: 1 },
            ],
          },
        },
        { token: tok.student },
      );
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(Object.keys(res.errors![0]!.extensions!.fieldErrors).sort()).toEqual([
        'input.answers[0].choiceIds',
        'input.answers[1].choiceIds',
        'input.answers[2].text',
        'input.answers[3].questionId',
      ]);
      // Another student's attempt is not found (nothing revealed).
      const foreign = await t.gql(SAVE, { input: { attemptId: attempt.id, answers: [] } }, { token: tok.other });
      expect(codesOf(foreign)).toEqual(['NOT_FOUND']);
    });

    it('accepts a submission within the 5 s grace by the database clock; later it is CONFLICT and the attempt EXPIRED with what was saved', async () => {
      const { lesson } = await setup();
      const quiz = await createQuiz(t, tok.owner!, lesson.id, fourKinds({ timeLimitSeconds: 60 }));
      const right = rightAnswers(quiz);
      const first = (await start(quiz.id)).data.startQuizAttempt;
      expect(new Date(first.deadline).getTime() - Date.now()).toBeGreaterThan(50_000);
      // The deadline passed 3 s ago by the database clock: inside the grace.
      await t.app.database.db.execute(
        sql`update quiz_attempts set deadline = now() - interval '3 seconds' where id = (select id from quiz_attempts where student_id = ${student.id} and status = 'IN_PROGRESS' and quiz_id in (select id from quizzes where lesson_id = ${lesson.id}))`,
      );
      const inGrace = await submit(first.id, right);
      expect(inGrace.data.submitQuizAttempt).toMatchObject({ status: 'SUBMITTED', scorePoints: 4 });

      const second = (await start(quiz.id)).data.startQuizAttempt;
      await t.gql(SAVE, { input: { attemptId: second.id, answers: [right[0]] } }, { token: tok.student });
      await t.app.database.db.execute(
        sql`update quiz_attempts set deadline = now() - interval '6 seconds' where student_id = ${student.id} and status = 'IN_PROGRESS'`,
      );
      const late = await submit(second.id, right);
      expect(codesOf(late)).toEqual(['CONFLICT']);
      expect(late.errors![0]!.extensions!.attemptStatus).toBe('EXPIRED');
      const [row] = await queryRows<{ status: string; score_points: number; submitted_at: Date | null }>(
        t.app.database.db,
        sql`select status, score_points, submitted_at from quiz_attempts where number = 2 and student_id = ${student.id} and quiz_id in (select id from quizzes where lesson_id = ${lesson.id})`,
      );
      // Graded with the one answer saved in time, not the four sent late.
      expect(row).toMatchObject({ status: 'EXPIRED', score_points: 1, submitted_at: null });
      expect(codesOf(await submit(second.id, right))).toEqual(['CONFLICT']);
    });
  });
});
