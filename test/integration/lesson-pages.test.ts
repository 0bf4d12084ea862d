import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * `Course.lessons` runs as one prepared statement per shape (cursor or not, status filter or
 * not, the columns its query selects): every shape must page and filter exactly as before,
 * and a selection that needs more than plain columns must get whole rows.
 */
describe('a course’s lesson pages (prepared, selected columns)', () => {
  let t: TestApp;
  let course: CourseRow;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ CACHE_ENABLED: 'false' });
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(instructor);
    course = await t.make.course(instructor.id);
    const statuses = ['SCHEDULED', 'COMPLETED', 'SCHEDULED', 'COMPLETED', 'SCHEDULED'] as const;
    for (const [i, status] of statuses.entries()) {
      await t.make.lesson(course.id, {
        title: `L${i}`,
        position: i,
        status,
        scheduledAt: new Date(Date.UTC(2030, 0, i + 1)),
      });
    }
  });
  afterAll(() => t?.close());

  const page = async (args: string, selection = 'title', fragments = '') => {
    const res = await t.gql(
      `query($id: ID!) { course(id: $id) { lessons(${args}) { edges { cursor node { ${selection} } } pageInfo { hasNextPage endCursor } } } } ${fragments}`,
      { id: gid('Course', course.id) },
      { token },
    );
    expect(res.errors?.map((e) => e.message)).toBeUndefined();
    return res.data.course.lessons as {
      edges: Array<{ cursor: string; node: Record<string, unknown> }>;
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
  };

  it('pages forward with cursors, with and without a status filter', async () => {
    const first = await page('first: 2');
    expect(first.edges.map((e) => e.node.title)).toEqual(['L0', 'L1']);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, endCursor: first.edges[1]!.cursor });
    const second = await page(`first: 2, after: "${first.pageInfo.endCursor}"`);
    expect(second.edges.map((e) => e.node.title)).toEqual(['L2', 'L3']);
    const last = await page(`first: 2, after: "${second.pageInfo.endCursor}"`);
    expect(last.edges.map((e) => e.node.title)).toEqual(['L4']);
    expect(last.pageInfo.hasNextPage).toBe(false);
    const scheduled = await page('first: 2, status: SCHEDULED');
    expect(scheduled.edges.map((e) => e.node.title)).toEqual(['L0', 'L2']);
    const more = await page(`first: 2, status: SCHEDULED, after: "${scheduled.pageInfo.endCursor}"`);
    expect(more.edges.map((e) => e.node.title)).toEqual(['L4']);
    const completed = await page('first: 5, status: COMPLETED');
    expect(completed.edges.map((e) => e.node.title)).toEqual(['L1', 'L3']);
  });

  it('gives whole rows to selections that need more than the columns they name', async () => {
    const partial = await page('first: 1', 'id title status scheduledAt');
    expect(partial.edges[0]!.node).toMatchObject({
      title: 'L0',
      status: 'SCHEDULED',
      scheduledAt: '2030-01-01T00:00:00.000Z',
    });
    // Through a fragment, with fields resolved from other columns (content under @auth, course).
    const whole = await page(
      'first: 1',
      '...L',
      'fragment L on Lesson { title content course { id } allowedTransitions }',
    );
    expect(whole.edges[0]!.node).toMatchObject({
      title: 'L0',
      content: 'Secret lesson notes',
      course: { id: gid('Course', course.id) },
    });
    expect(whole.edges[0]!.node.allowedTransitions).toEqual(expect.arrayContaining(['IN_PROGRESS']));
  });
});
