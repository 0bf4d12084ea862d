import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { enrollStudents } from '../helpers/notifications.js';
import { createQuiz, fourKinds, START } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const GRADEBOOK = `query($c: ID!, $first: Int) { course(id: $c) { gradebook(first: $first) { totalCount
  pageInfo { hasNextPage endCursor }
  edges { node { enrollment { id student { displayName } certificate { code } }
    progress { percent requiredQuizzes passedRequiredQuizzes completed completedAt }
    quizBestPercents certificate { code } } } } } }`;
const ATTEMPTS = `query($q: ID!, $first: Int) { node(id: $q) { ... on Quiz { attempts(first: $first) { totalCount
  edges { node { number status student { displayName } quiz { title } } } } } } }`;

describe('gradebook and Quiz.attempts: batched, keyset-paginated, guarded', () => {
  let t: TestApp;
  let token: string;
  let courseId: string;
  let quizId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(owner);
    const course = await t.make.course(owner.id);
    courseId = gid('Course', course.id);
    const lesson = await t.make.lesson(course.id);
    await enrollStudents(t.app.database.db, course.id, 60);
    const quiz = await createQuiz(t, token, lesson.id, fourKinds({ required: true }));
    await createQuiz(t, token, lesson.id, fourKinds());
    quizId = quiz.id;
    // A few students start attempts, so attempts pages have rows to batch over.
    const students = await t.app.database.db.query.users.findMany({
      where: (u, { like }) => like(u.email, 'bulk-%'),
      limit: 60,
    });
    for (const s of students) await t.gql(START, { q: quiz.id }, { token: await t.tokenFor(s) });
  });
  afterAll(() => t?.close());

  it('answers 5 and 50 rows with the same number of statements', async () => {
    const small = await t.countQueries(() => t.gql(GRADEBOOK, { c: courseId, first: 5 }, { token }));
    const large = await t.countQueries(() => t.gql(GRADEBOOK, { c: courseId, first: 50 }, { token }));
    expect(small.result.errors).toBeUndefined();
    expect(large.result.errors).toBeUndefined();
    expect(small.result.data.course.gradebook.edges).toHaveLength(5);
    expect(large.result.data.course.gradebook.edges).toHaveLength(50);
    expect(large.result.data.course.gradebook.totalCount).toBe(60);
    expect(large.result.data.course.gradebook.edges[0].node.quizBestPercents).toEqual([null, null]);
    expect(large.statements).toBe(small.statements);
  });

  it('pages the gradebook by keyset cursor without repeats', async () => {
    const first = await t.gql(GRADEBOOK, { c: courseId, first: 40 }, { token });
    const after = first.data.course.gradebook.pageInfo.endCursor;
    const q = `query($c: ID!, $after: String) { course(id: $c) { gradebook(first: 40, after: $after) { edges { node { enrollment { id } } } pageInfo { hasNextPage } } } }`;
    const second = await t.gql(q, { c: courseId, after }, { token });
    const ids = [...first.data.course.gradebook.edges, ...second.data.course.gradebook.edges].map(
      (e: any) => e.node.enrollment.id,
    );
    expect(new Set(ids).size).toBe(60);
    expect(second.data.course.gradebook.pageInfo.hasNextPage).toBe(false);
  });

  it('answers Quiz.attempts for 5 and 50 with the same number of statements; students are refused', async () => {
    const small = await t.countQueries(() => t.gql(ATTEMPTS, { q: quizId, first: 5 }, { token }));
    const large = await t.countQueries(() => t.gql(ATTEMPTS, { q: quizId, first: 50 }, { token }));
    expect(large.result.data.node.attempts.edges).toHaveLength(50);
    expect(large.result.data.node.attempts.totalCount).toBe(60);
    expect(large.statements).toBe(small.statements);
    const student = (await t.app.database.db.query.users.findFirst({
      where: (u, { like }) => like(u.email, 'bulk-%'),
    }))!;
    const studentToken = await t.tokenFor(student);
    expect(codesOf(await t.gql(ATTEMPTS, { q: quizId, first: 5 }, { token: studentToken }))).toEqual(['FORBIDDEN']);
    expect(codesOf(await t.gql(GRADEBOOK, { c: courseId, first: 5 }, { token: studentToken }))).toEqual(['FORBIDDEN']);
  });
});
