import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * N+1 guard: the number of SQL statements for a nested catalog query must not depend on how
 * many courses (or lessons) the page holds — one statement per level, plus counts.
 */
const QUERY = (first: number) => `{
  courses(first: ${first}) {
    edges { node {
      title
      instructor { displayName }
      lessonCount
      enrollmentCount
      lessons(first: 10) { totalCount edges { node { title status } } }
    } }
  }
}`;

describe('SQL statements per request', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    const instructors = await Promise.all([1, 2, 3].map(() => t.make.user({ role: 'INSTRUCTOR' })));
    const students = await Promise.all([1, 2, 3, 4].map(() => t.make.user()));
    for (let c = 0; c < 60; c++) {
      const course = await t.make.course(instructors[c % 3]!.id);
      for (let p = 0; p < 12; p++) await t.make.lesson(course.id, { position: p, status: p % 2 ? 'COMPLETED' : 'SCHEDULED' });
      for (const s of students.slice(0, c % 5)) await t.make.enrollment(s.id, course.id);
    }
  });
  afterAll(() => t?.close());

  it('stays constant from 5 to 50 courses per page, at one statement per level plus counts', async () => {
    const small = await t.countQueries(() => t.gql(QUERY(5)));
    const large = await t.countQueries(() => t.gql(QUERY(50)));
    expect(small.result.errors).toBeUndefined();
    expect(large.result.errors).toBeUndefined();
    expect(large.result.data.courses.edges).toHaveLength(50);
    expect(large.result.data.courses.edges[0].node.lessons.edges).toHaveLength(10);
    expect(large.result.data.courses.edges[0].node.lessons.totalCount).toBe(12);

    // courses page, instructors, lesson counts (lessonCount and totalCount share it),
    // enrollment counts, lessons page.
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeLessThanOrEqual(5);
  });

  it('batches lessons with different arguments per distinct argument set, not per course', async () => {
    const q = `{ courses(first: 40) { edges { node {
      done: lessons(first: 3, status: COMPLETED) { totalCount edges { node { status } } }
      todo: lessons(first: 3, status: SCHEDULED) { totalCount edges { node { status } } }
    } } } }`;
    const { result, statements } = await t.countQueries(() => t.gql(q));
    expect(result.errors).toBeUndefined();
    const node = result.data.courses.edges[0].node;
    expect(node.done.edges.every((e: any) => e.node.status === 'COMPLETED')).toBe(true);
    expect(node.todo.totalCount).toBe(6);
    // courses, lessons page per status (2), shared lesson counts
    expect(statements).toBeLessThanOrEqual(4);
  });
});
