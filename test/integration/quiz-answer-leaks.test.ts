import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf, type GraphQLResponse } from '../helpers/graphql-client.js';
import { createQuiz } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

// Every way a student can read a quiz, an attempt or its results, in one selection.
const QUESTION = `id kind prompt choices { id text correct } acceptedAnswers tolerance`;
const ATTEMPT = `id status scorePoints results { question { ${QUESTION} } given correct pointsAwarded correctAnswer }`;
const QUIZ = `id title revealAnswers questions { ${QUESTION} } viewerAttempts { ${ATTEMPT} } viewerBestPercent`;
const VIA_LESSON = `query($l: ID!) { lesson(id: $l) { quizzes { ${QUIZ} } } }`;
const VIA_NODE = `query($q: ID!, $a: ID!) { quiz: node(id: $q) { ... on Quiz { ${QUIZ} } } attempt: node(id: $a) { ... on QuizAttempt { ${ATTEMPT} quiz { ${QUIZ} } } } }`;
const START = `mutation($q: ID!) { startQuizAttempt(quizId: $q) { ${ATTEMPT} quiz { ${QUIZ} } } }`;
const SAVE = `mutation($input: SaveAnswersInput!) { saveQuizAnswers(input: $input) { ${ATTEMPT} quiz { ${QUIZ} } } }`;
const SUBMIT = `mutation($input: SaveAnswersInput!) { submitQuizAttempt(input: $input) { ${ATTEMPT} quiz { ${QUIZ} } } }`;
const ALL_ATTEMPTS = `query($q: ID!) { node(id: $q) { ... on Quiz { attempts(first: 5) { edges { node { ${ATTEMPT} } } } } } }`;
const GRADED = `subscription($c: ID!) { quizAttemptGraded(courseId: $c) { ${ATTEMPT} } }`;

// Answers no student may read: a text only the accepted answer has, a number only the key has.
const SECRET_TEXT = 'zanzibar-sesame';
const SECRET_NUMBER = '98765.25';
const TEN_CHOICES = Array.from({ length: 10 }, (_, i) => ({ text: `Option ${i}`, correct: i === 0 }));

/** Every answer-bearing value in a response: Choice.correct, acceptedAnswers, correctAnswer. */
function answerValues(value: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => answerValues(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'acceptedAnswers' || k === 'correctAnswer') out.push(v);
      if (k === 'choices' && Array.isArray(v)) for (const c of v) out.push((c as { correct: unknown }).correct);
      answerValues(v, out);
    }
  }
  return out;
}

function expectNoAnswers(res: GraphQLResponse, where: string) {
  const text = JSON.stringify(res);
  expect(text, where).not.toContain(SECRET_TEXT);
  expect(text, where).not.toContain(SECRET_NUMBER);
  const values = answerValues(res.data);
  expect(values.length, `${where}: the walk reached answer fields`).toBeGreaterThan(0);
  expect(
    values.every((v) => v === null),
    where,
  ).toBe(true);
  // The response is not stored in the response cache (no entry of any scope holds a quiz).
  expect(res.headers.get('x-cache'), where).not.toBe('HIT');
}

describe('no answer leaks to students', () => {
  let t: TestApp;
  let owner: UserRow, student: UserRow;
  const tok: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    tok.owner = await t.tokenFor(owner);
  });
  afterAll(() => t?.close());

  async function walk(revealAnswers: boolean) {
    student = await t.make.user();
    tok.student = await t.tokenFor(student);
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    await t.make.enrollment(student.id, course.id);
    const quiz = await createQuiz(t, tok.owner!, lesson.id, {
      title: 'Secrets',
      revealAnswers,
      questions: [
        { kind: 'SINGLE_CHOICE', prompt: 'Pick', choices: TEN_CHOICES },
        { kind: 'SHORT_TEXT', prompt: 'Password?', acceptedAnswers: [SECRET_TEXT] },
        { kind: 'NUMERIC', prompt: 'Number?', acceptedAnswers: [SECRET_NUMBER] },
      ],
    });
    const correctChoice = quiz.questions[0]!.choices[0]!.id;
    const as = { token: tok.student };
    const lessonId = gid('Lesson', lesson.id);
    return { course, lesson, quiz, correctChoice, as, lessonId };
  }

  for (const revealAnswers of [false, true]) {
    it(`walks every path before and after submission (revealAnswers: ${revealAnswers})`, async () => {
      const { course, quiz, as, lessonId, correctChoice } = await walk(revealAnswers);
      // Before any attempt.
      const before = await t.gql(VIA_LESSON, { l: lessonId }, as);
      expectNoAnswers(before, 'lesson.quizzes before');
      expect((await t.gql(VIA_LESSON, { l: lessonId }, as)).headers.get('x-cache')).not.toBe('HIT');
      const authored = quiz.questions[0]!.choices.map((c) => c.id);
      expect(before.data.lesson.quizzes[0].questions[0].choices.map((c: any) => c.id)).not.toEqual(authored);

      const started = await t.gql(START, { q: quiz.id }, as);
      expectNoAnswers(started, 'startQuizAttempt');
      const attemptId = started.data.startQuizAttempt.id;
      const order = started.data.startQuizAttempt.quiz.questions[0].choices.map((c: any) => c.id);
      // The attempt's own order: stable within it, not the authored one.
      expect(order).not.toEqual(authored);
      const resumed = await t.gql(START, { q: quiz.id }, as);
      expect(resumed.data.startQuizAttempt.quiz.questions[0].choices.map((c: any) => c.id)).toEqual(order);

      // Saving a right and a wrong answer answers the same, and grades nothing.
      const q0 = quiz.questions[0]!.id;
      const right = await t.gql(
        SAVE,
        { input: { attemptId, answers: [{ questionId: q0, choiceIds: [correctChoice] }] } },
        as,
      );
      const wrong = await t.gql(
        SAVE,
        {
          input: {
            attemptId,
            answers: [{ questionId: q0, choiceIds: [order.find((id: string) => id !== correctChoice)] }],
          },
        },
        as,
      );
      expectNoAnswers(right, 'saveQuizAnswers');
      expect(JSON.stringify(wrong.data)).toBe(JSON.stringify(right.data));
      // Errors name the field, never the answer.
      const bad = await t.gql(
        SAVE,
        {
          input: {
            attemptId,
            answers: [
              { questionId: quiz.questions[1]!.id, number: 1 },
              { questionId: q0, choiceIds: order.slice(0, 2) },
            ],
          },
        },
        as,
      );
      expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(bad.errors)).not.toContain(SECRET_TEXT);
      expect(JSON.stringify(bad.errors)).not.toContain(correctChoice);

      expectNoAnswers(await t.gql(VIA_NODE, { q: quiz.id, a: attemptId }, as), 'node(id) in progress');
      expect(codesOf(await t.gql(ALL_ATTEMPTS, { q: quiz.id }, as))).toEqual(['FORBIDDEN']);

      // WebSocket: the graded-attempt feed is refused to a student.
      const socket = liveClient(t.url, { authorization: `Bearer ${tok.student}` });
      const sub = subscribe(socket, GRADED, { c: gid('Course', course.id) });
      const first = (await sub.next()) as any;
      expect(first.errors?.[0]?.extensions?.code ?? first?.[0]?.extensions?.code).toBe('FORBIDDEN');
      await socket.dispose();

      const submitted = await t.gql(
        SUBMIT,
        { input: { attemptId, answers: [{ questionId: quiz.questions[1]!.id, text: 'wrong' }] } },
        as,
      );
      expect(submitted.errors).toBeUndefined();
      expect(submitted.data.submitQuizAttempt.status).toBe('SUBMITTED');
      const afterLesson = await t.gql(VIA_LESSON, { l: lessonId }, as);
      const afterNode = await t.gql(VIA_NODE, { q: quiz.id, a: attemptId }, as);
      if (!revealAnswers) {
        expectNoAnswers(submitted, 'submitQuizAttempt');
        expectNoAnswers(afterLesson, 'lesson.quizzes after');
        expectNoAnswers(afterNode, 'node(id) after');
      } else {
        // After submission, with revealAnswers: the answers, everywhere the student reads the quiz.
        for (const res of [submitted, afterLesson, afterNode]) {
          expect(JSON.stringify(res.data)).toContain(SECRET_TEXT);
          expect(answerValues(res.data).filter((v) => v !== null).length).toBeGreaterThan(0);
        }
        const results = submitted.data.submitQuizAttempt.results;
        expect(results[0].correctAnswer).toBe(correctChoice);
        expect(results[0].question.choices.map((c: any) => c.id)).toEqual(order);
        // A second attempt in progress hides them again: they must not help with it.
        const second = await t.gql(START, { q: quiz.id }, as);
        expectNoAnswers(second, 'second attempt in progress');
        expect(second.data.startQuizAttempt.quiz.questions[0].choices.map((c: any) => c.id)).not.toEqual(order);
      }
      // The instructor sees the answers throughout.
      const staff = await t.gql(VIA_NODE, { q: quiz.id, a: attemptId }, { token: tok.owner });
      expect(staff.data.attempt.results[1].correctAnswer).toBe(SECRET_TEXT);
    });
  }
});
