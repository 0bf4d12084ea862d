import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { createQuiz, fourKinds, START, SUBMIT } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const VERIFY = `query($code: String!) { verifyCertificate(code: $code) { valid } }`;

/** Throttles and cost prices of the assessment fields: each limit is reached, and only by its own key. */
describe('assessment limits: throttles and query cost', () => {
  let t: TestApp;
  let owner: UserRow;
  let ownerToken: string;

  beforeAll(async () => {
    // One proxy hop (the load balancer): the client address is the forwarded one. A low cost
    // ceiling: the queries below stay under it at one point per field, and exceed it as priced.
    t = await startTestApp({ TRUST_PROXY: 'loopback', MAX_QUERY_COST: '1500' });
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await t.tokenFor(owner);
  });
  afterAll(() => t?.close());

  it('verifyCertificate: 30 checks a minute per client address, then RATE_LIMITED with a retry time', async () => {
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    for (let i = 0; i < 30; i++) {
      const res = await t.gql(
        VERIFY,
        { code: `AAAA-BBBB-CCCC-DDDD-${String(i).padStart(4, '0')}` },
        from('203.0.113.7'),
      );
      expect(res.errors, `check ${i + 1}`).toBeUndefined();
    }
    const refused = await t.gql(VERIFY, { code: 'AAAA-BBBB-CCCC-DDDD-EEEE' }, from('203.0.113.7'));
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Another address is not affected.
    expect((await t.gql(VERIFY, { code: 'AAAA-BBBB-CCCC-DDDD-EEEE' }, from('203.0.113.8'))).errors).toBeUndefined();
  });

  it('quiz attempts: 10 starts and submissions a minute per student, then RATE_LIMITED; other students unaffected', async () => {
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    const quiz = await createQuiz(t, ownerToken, lesson.id, fourKinds());
    const student = await t.make.user();
    const other = await t.make.user();
    await t.make.enrollment(student.id, course.id);
    await t.make.enrollment(other.id, course.id);
    const token = await t.tokenFor(student);
    // Five start-and-submit rounds: ten reservations, all free.
    for (let i = 0; i < 5; i++) {
      const started = await t.gql(START, { q: quiz.id }, { token });
      expect(started.errors, `start ${i + 1}`).toBeUndefined();
      const submitted = await t.gql(
        SUBMIT,
        { input: { attemptId: started.data.startQuizAttempt.id, answers: [] } },
        { token },
      );
      expect(submitted.errors, `submit ${i + 1}`).toBeUndefined();
    }
    const refused = await t.gql(START, { q: quiz.id }, { token });
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((await t.gql(START, { q: quiz.id }, { token: await t.tokenFor(other) })).errors).toBeUndefined();
  });

  it('prices gradebooks, questions and attempts: pages of them exceed a ceiling the same pages of plain fields stay under', async () => {
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    const quiz = await createQuiz(t, ownerToken, lesson.id, fourKinds());
    const vars = { c: gid('Course', course.id), q: quiz.id };
    const priced = [
      `query($c: ID!) { course(id: $c) { gradebook(first: 100) { edges { node {
        progress { completed completedAt requiredQuizzes passedRequiredQuizzes } quizBestPercents certificate { code } } } } } }`,
      `query($c: ID!) { course(id: $c) { lessons(first: 100) { edges { node { quizzes { questions { id } } } } } } }`,
      `query($q: ID!) { node(id: $q) { ... on Quiz { attempts(first: 100) { edges { node { results { correct } } } } } } }`,
    ];
    for (const q of priced) {
      const res = await t.gql(q, vars, { token: ownerToken });
      expect([res.status, res.errors?.[0]?.message], q).toEqual([400, expect.stringMatching(/cost \d+ exceeds/)]);
      // The same selection over a smaller page is served.
      const small = await t.gql(q.replace('(first: 100)', '(first: 10)'), vars, { token: ownerToken });
      expect(small.errors, q).toBeUndefined();
    }
  });
});
