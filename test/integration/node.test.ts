import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('Query.node and Query.nodes', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(instructor.id, { title: 'Node course' });
    const lesson = await t.make.lesson(course.id, { title: 'Node lesson' });
    ids.user = gid('User', instructor.id);
    ids.course = gid('Course', course.id);
    ids.lesson = gid('Lesson', lesson.id);
  });
  afterAll(() => t?.close());

  it('resolves every type through node, with the same id the object reports', async () => {
    const res = await t.gql(
      `query($u: ID!, $c: ID!, $l: ID!) {
        u: node(id: $u) { __typename id ... on User { displayName } }
        c: node(id: $c) { __typename id ... on Course { title } }
        l: node(id: $l) { __typename id ... on Lesson { title course { id } } }
      }`,
      { u: ids.user, c: ids.course, l: ids.lesson },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.u).toMatchObject({ __typename: 'User', id: ids.user });
    expect(res.data.c).toEqual({ __typename: 'Course', id: ids.course, title: 'Node course' });
    expect(res.data.l).toEqual({
      __typename: 'Lesson',
      id: ids.lesson,
      title: 'Node lesson',
      course: { id: ids.course },
    });
  });

  it('keeps ids opaque: no raw uuid or type name is visible', () => {
    expect(ids.course).not.toMatch(/Course|-/);
  });

  it.each([
    ['garbage', 'not base64'],
    ['', 'empty'],
    ['Q291cnNlOm5vdC1hLXV1aWQ', 'Course:not-a-uuid'],
    ['VW5pY29ybjoxMjM', 'an unknown type'],
    ['x'.repeat(5000), 'huge'],
    [gid('Course', '00000000-0000-4000-8000-000000000000'), 'a missing course'],
  ])('answers null, not an error, for %s (%s)', async (id) => {
    const res = await t.gql(
      `query($id: ID!) { node(id: $id) { id } course(id: $id) { id } lesson(id: $id) { id } user(id: $id) { id } enrollment(id: $id) { id } }`,
      { id },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ node: null, course: null, lesson: null, user: null, enrollment: null });
  });

  it('answers null when an id of another type is passed to a typed field', async () => {
    const res = await t.gql(`query($id: ID!) { lesson(id: $id) { id } user(id: $id) { id } }`, { id: ids.course });
    expect(res.data).toEqual({ lesson: null, user: null });
  });

  it('resolves nodes in the order asked, with nulls for missing ones', async () => {
    const res = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids: [ids.lesson, 'bogus', ids.course],
    });
    expect(res.data.nodes).toEqual([{ id: ids.lesson }, null, { id: ids.course }]);
  });

  it('refuses more than 100 ids', async () => {
    const res = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array(101).fill(ids.course) });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.extensions!.fieldErrors).toHaveProperty('ids');
  });
});
