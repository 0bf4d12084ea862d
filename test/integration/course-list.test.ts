import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PAGE = /* GraphQL */ `
  query Page($first: Int, $after: String, $last: Int, $before: String, $filter: CourseFilter, $orderBy: CourseOrder) {
    courses(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
      totalCount
      edges {
        cursor
        node {
          id
          title
          priceCents
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`;

describe('Query.courses', () => {
  let t: TestApp;
  let instructor: UserRow;
  let emptyInstructor: UserRow;
  const titles = ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo'];

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    emptyInstructor = await t.make.user({ role: 'INSTRUCTOR' });
    for (const [i, title] of titles.entries()) {
      await t.make.course(instructor.id, {
        title,
        priceCents: (5 - i) * 100,
        createdAt: new Date(Date.UTC(2026, 0, 1 + i)),
      });
    }
  });
  afterAll(() => t?.close());

  const mine = () => ({ instructorId: gid('User', instructor.id) });
  const byTitle = { field: 'TITLE', direction: 'ASC' };

  it('returns an empty connection for a filter that matches nothing', async () => {
    const res = await t.gql(PAGE, { filter: { instructorId: gid('User', emptyInstructor.id) } });
    expect(res.errors).toBeUndefined();
    expect(res.data.courses).toEqual({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('orders newest first by default', async () => {
    const res = await t.gql(PAGE, { filter: mine() });
    expect(res.data.courses.edges.map((e: any) => e.node.title)).toEqual([...titles].reverse());
  });

  it('walks forward page by page and reports the last page exactly', async () => {
    const first = await t.gql(PAGE, { first: 2, filter: mine(), orderBy: byTitle });
    expect(first.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Alpha', 'Bravo']);
    expect(first.data.courses.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(first.data.courses.totalCount).toBe(5);

    const second = await t.gql(PAGE, {
      first: 2,
      after: first.data.courses.pageInfo.endCursor,
      filter: mine(),
      orderBy: byTitle,
    });
    expect(second.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Charlie', 'Delta']);
    expect(second.data.courses.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });

    const third = await t.gql(PAGE, {
      first: 2,
      after: second.data.courses.pageInfo.endCursor,
      filter: mine(),
      orderBy: byTitle,
    });
    expect(third.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Echo']);
    expect(third.data.courses.pageInfo.hasNextPage).toBe(false);
  });

  it('says there is no next page when the page is exactly full', async () => {
    const res = await t.gql(PAGE, { first: 5, filter: mine() });
    expect(res.data.courses.edges).toHaveLength(5);
    expect(res.data.courses.pageInfo.hasNextPage).toBe(false);
  });

  it('walks backward with last/before', async () => {
    const last = await t.gql(PAGE, { last: 2, filter: mine(), orderBy: byTitle });
    expect(last.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Delta', 'Echo']);
    expect(last.data.courses.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });

    const before = await t.gql(PAGE, {
      last: 2,
      before: last.data.courses.pageInfo.startCursor,
      filter: mine(),
      orderBy: byTitle,
    });
    expect(before.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Bravo', 'Charlie']);
    expect(before.data.courses.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    const start = await t.gql(PAGE, {
      last: 2,
      before: before.data.courses.pageInfo.startCursor,
      filter: mine(),
      orderBy: byTitle,
    });
    expect(start.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Alpha']);
    expect(start.data.courses.pageInfo.hasPreviousPage).toBe(false);
  });

  it('keeps cursors stable when rows are inserted before them', async () => {
    const own = await t.make.user({ role: 'INSTRUCTOR' });
    for (const title of ['B1', 'B2', 'B3']) await t.make.course(own.id, { title });
    const filter = { instructorId: gid('User', own.id) };
    const page1 = await t.gql(PAGE, { first: 2, filter, orderBy: byTitle });
    await t.make.course(own.id, { title: 'A0' }); // sorts before everything already seen
    const page2 = await t.gql(PAGE, {
      first: 2,
      after: page1.data.courses.pageInfo.endCursor,
      filter,
      orderBy: byTitle,
    });
    expect(page2.data.courses.edges.map((e: any) => e.node.title)).toEqual(['B3']);
  });

  it.each([
    ['TITLE', 'DESC', ['Echo', 'Delta', 'Charlie', 'Bravo', 'Alpha']],
    ['PRICE', 'ASC', ['Echo', 'Delta', 'Charlie', 'Bravo', 'Alpha']],
    ['PRICE', 'DESC', ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']],
    ['CREATED_AT', 'ASC', ['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo']],
  ])('orders by %s %s across pages', async (field, direction, expected) => {
    const orderBy = { field, direction };
    const a = await t.gql(PAGE, { first: 3, filter: mine(), orderBy });
    const b = await t.gql(PAGE, { first: 3, after: a.data.courses.pageInfo.endCursor, filter: mine(), orderBy });
    expect([...a.data.courses.edges, ...b.data.courses.edges].map((e: any) => e.node.title)).toEqual(expected);
  });

  it.each([
    [{ first: 0 }, 'first'],
    [{ first: 101 }, 'first'],
    [{ first: -1 }, 'first'],
    [{ last: 0 }, 'last'],
    [{ last: 500 }, 'last'],
    [{ first: 2, last: 2 }, 'last'],
    [{ after: 'not-a-cursor' }, 'after'],
    [{ before: 'WyJ4Il0' }, 'before'],
    [{ first: 2, before: 'WyJ4Il0' }, 'before'],
  ])('rejects %j with BAD_USER_INPUT naming %s', async (args, field) => {
    const res = await t.gql(PAGE, { ...args, filter: mine() });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0]!.extensions!.fieldErrors).toHaveProperty(field);
    expect(res.status).toBe(400);
  });

  it('rejects a cursor made for another ordering', async () => {
    const byPrice = await t.gql(PAGE, { first: 1, filter: mine(), orderBy: { field: 'PRICE', direction: 'ASC' } });
    const res = await t.gql(PAGE, {
      first: 1,
      after: byPrice.data.courses.pageInfo.endCursor,
      filter: mine(),
      orderBy: byTitle,
    });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('accepts the maximum page size of 100', async () => {
    const res = await t.gql(PAGE, { first: 100, filter: mine() });
    expect(res.errors).toBeUndefined();
    expect(res.data.courses.edges).toHaveLength(5);
  });

  describe('filters', () => {
    it('filters by status', async () => {
      const own = await t.make.user({ role: 'INSTRUCTOR' });
      await t.make.course(own.id, { title: 'Published one' });
      await t.make.course(own.id, { title: 'Archived one', status: 'ARCHIVED' });
      const token = await t.tokenFor(own);
      const res = await t.gql(PAGE, { filter: { instructorId: gid('User', own.id), status: 'ARCHIVED' } }, { token });
      expect(res.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Archived one']);
    });

    it('rejects a malformed instructorId naming the field', async () => {
      const res = await t.gql(PAGE, { filter: { instructorId: 'garbage' } });
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.fieldErrors).toEqual({ 'filter.instructorId': 'is not a valid User ID' });
    });

    it('finds courses by words in title or description, with stemming', async () => {
      const own = await t.make.user({ role: 'INSTRUCTOR' });
      await t.make.course(own.id, { title: 'Gardening basics', description: 'Growing tomatoes on a balcony' });
      await t.make.course(own.id, { title: 'Pottery', description: 'Wheel throwing for beginners' });
      const filter = (search: string) => ({ instructorId: gid('User', own.id), search });
      const tomato = await t.gql(PAGE, { filter: filter('tomato') });
      expect(tomato.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Gardening basics']);
      expect(tomato.data.courses.totalCount).toBe(1);
      const phrase = await t.gql(PAGE, { filter: filter('"wheel throwing"') });
      expect(phrase.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Pottery']);
      const either = await t.gql(PAGE, { filter: filter('pottery or gardening') });
      expect(either.data.courses.totalCount).toBe(2);
    });

    it.each([
      `' OR 1=1 --`,
      `& | ! :*`,
      `' OR 1=1 -- & | ! :*`,
      `"unbalanced`,
      `(((`,
      `\\`,
      `%_%`,
      `;drop table courses;`,
    ])('treats the hostile search %j as plain text', async (search) => {
      const res = await t.gql(PAGE, { filter: { search } });
      expect(res.errors).toBeUndefined();
      expect(res.status).toBe(200);
      expect(res.data.courses.totalCount).toBe(0);
    });

    it('rejects an over-long search naming the field', async () => {
      const res = await t.gql(PAGE, { filter: { search: 'x'.repeat(201) } });
      expect(res.errors![0]!.extensions!.fieldErrors).toHaveProperty(['filter.search']);
    });
  });
});

describe('long cursors', () => {
  it('paginates by TITLE past titles of 200 multi-byte characters', async () => {
    const t = await startTestApp();
    try {
      const i = await t.make.user({ role: 'INSTRUCTOR' });
      await t.make.course(i.id, { title: '講'.repeat(200) });
      await t.make.course(i.id, { title: '語'.repeat(200) });
      const q = `query($a: String, $f: CourseFilter) { courses(first: 1, after: $a, filter: $f, orderBy: { field: TITLE, direction: ASC }) { edges { node { title } } pageInfo { endCursor } } }`;
      const f = { instructorId: gid('User', i.id) };
      const first = await t.gql(q, { f });
      const second = await t.gql(q, { f, a: first.data.courses.pageInfo.endCursor });
      expect(second.errors).toBeUndefined();
      const titles = [first, second].map((r) => r.data.courses.edges[0].node.title).sort();
      expect(titles).toEqual(['講'.repeat(200), '語'.repeat(200)].sort());
    } finally {
      await t.close();
    }
  });
});
