import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PG_ADMIN_URL } from '../helpers/env.js';
import {
  roundTripsOf,
  startPgWireLog,
  statementsBeforeFirstResultOf,
  statementsOf,
  type PgWireLog,
} from '../helpers/pg-wire-log.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Latency of a catalog page: how many times the API waits for Postgres, seen on the wire (a
 * proxy in front of Postgres records every protocol message). The page's instructors and
 * lessons, and its count, depend only on which courses the page holds, so they are asked for
 * together with the page: one round trip, whatever the page holds. One pooled connection makes
 * the order on the wire deterministic (the statements are pipelined on it).
 */
const CATALOG = `{ courses(first: 20) { edges { node { title instructor { displayName } lessons(first: 10) { edges { node { title status } } } } } } }`;

/** The same query with nothing to read ahead (a directive on the way): the fields load as they always did. */
const unplanned = (query: string) => query.replace(/lessons\((.*?)\)/g, 'lessons($1) @include(if: true)');

describe('catalog page round trips', () => {
  let wire: PgWireLog;
  let t: TestApp;

  beforeAll(async () => {
    wire = await startPgWireLog(TEST_PG_ADMIN_URL);
    t = await startTestApp({ DB_POOL_MAX: '1', CACHE_ENABLED: 'false' }, { routeDatabase: (url) => wire.route(url) });
    const instructors = await Promise.all([1, 2, 3].map(() => t.make.user({ role: 'INSTRUCTOR' })));
    // Oldest first: a published course without lessons, and a draft nobody anonymous sees.
    await t.make.course(instructors[0]!.id, { title: 'No lessons yet' });
    await t.make.course(instructors[1]!.id, { title: 'Draft', status: 'DRAFT' });
    for (let c = 0; c < 8; c++) {
      const course = await t.make.course(instructors[c % 3]!.id, { title: `Course ${c}` });
      for (let p = 0; p < 12; p++)
        await t.make.lesson(course.id, { position: p, title: `L${c}.${p}`, status: p % 3 ? 'COMPLETED' : 'SCHEDULED' });
    }
  });
  afterAll(async () => {
    await t?.close();
    await wire?.close();
  });

  /** Runs a query until its statements are prepared on the connection and it runs compiled, then once more on the record. */
  async function onTheWire(query: string, variables?: Record<string, unknown>) {
    for (let i = 0; i < 3; i++) await t.gql(query, variables);
    wire.reset();
    const res = await t.gql(query, variables);
    const events = wire.events();
    expect(res.errors).toBeUndefined();
    return {
      data: res.data,
      statements: statementsOf(events),
      roundTrips: roundTripsOf(events),
      beforeFirstResult: statementsBeforeFirstResultOf(events),
    };
  }

  it('asks for the page, its instructors and its lessons in one round trip, as one statement', async () => {
    const page = await onTheWire(CATALOG.replace('first: 20', 'first: 8'));
    expect(page.data.courses.edges).toHaveLength(8);
    expect(page.data.courses.edges[0].node.lessons.edges).toHaveLength(10);
    expect(page.statements).toBe(1);
    expect(page.beforeFirstResult).toBe(1);
    expect(page.roundTrips).toBe(1);

    // Without reading ahead: the page, then its children (two round trips), same answer.
    const plain = await onTheWire(unplanned(CATALOG.replace('first: 20', 'first: 8')));
    expect(plain.roundTrips).toBe(2);
    expect(plain.beforeFirstResult).toBe(1);
    expect(page.data).toEqual(plain.data);
  });

  it('counts the catalog in the same round trip when totalCount is selected', async () => {
    const query = CATALOG.replace('first: 20) {', 'first: 8) { totalCount');
    const page = await onTheWire(query);
    expect(page.data.courses.totalCount).toBe(9);
    // The count (a bigint, not read as JSON) is a statement of its own, pipelined with the page's.
    expect(page.statements).toBe(2);
    expect(page.roundTrips).toBe(1);
  });

  it('answers exactly as without reading ahead: a course without lessons, cursors both ways, lesson filters', async () => {
    const full = await onTheWire(CATALOG);
    const plain = await onTheWire(unplanned(CATALOG));
    expect(full.data).toEqual(plain.data);
    expect(full.data.courses.edges).toHaveLength(9);
    expect(full.data.courses.edges.at(-1).node).toEqual({
      title: 'No lessons yet',
      instructor: expect.any(Object),
      lessons: { edges: [] },
    });
    // The course without lessons is loaded by its resolver, after the page.
    expect(full.roundTrips).toBe(2);

    const paged = `query($first: Int, $after: String, $last: Int, $before: String) {
      courses(first: $first, after: $after, last: $last, before: $before) {
        pageInfo { endCursor startCursor }
        edges { node { title instructor { displayName } lessons(first: 4, after: null, status: COMPLETED) { edges { cursor node { title } } } } }
      } }`;
    const first = await onTheWire(paged, { first: 3 });
    const after = { first: 3, after: first.data.courses.pageInfo.endCursor };
    const next = await onTheWire(paged, after);
    expect(next.data).toEqual((await onTheWire(unplanned(paged), after)).data);
    expect(next.roundTrips).toBe(1);
    expect(next.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Course 4', 'Course 3', 'Course 2']);
    const before = { last: 2, before: next.data.courses.pageInfo.startCursor };
    const back = await onTheWire(paged, before);
    expect(back.data).toEqual((await onTheWire(unplanned(paged), before)).data);
    expect(back.data.courses.edges.map((e: any) => e.node.title)).toEqual(['Course 6', 'Course 5']);
    expect(back.roundTrips).toBe(1);
    for (const edge of next.data.courses.edges) {
      expect(edge.node.lessons.edges.map((e: any) => e.node.title)).toHaveLength(4);
    }
  });
});
