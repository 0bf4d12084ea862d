import { Client, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEduFlowClient } from '../../examples/clients/apollo-client.js';
import { createEduFlowSocket } from '../../examples/clients/graphql-ws.js';
import { createEduFlowRelayEnvironment } from '../../examples/clients/relay.js';
import NodeQuery, {
  type relayCatalogNodeQuery,
} from '../../examples/relay/__generated__/relayCatalogNodeQuery.graphql.js';
import CatalogQuery, { type relayCatalogQuery } from '../../examples/relay/__generated__/relayCatalogQuery.graphql.js';
import { fetchQuery } from 'relay-runtime';
import { createEduFlowUrqlClient } from '../../examples/clients/urql.js';
import {
  CatalogDocument,
  CourseByIdDocument,
  LessonStatusChangedDocument,
  MeDocument,
  RegisterDocument,
  type LessonStatusChangedSubscription,
} from '../../examples/generated/graphql.js';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const START = `mutation($id: ID!) { startLesson(id: $id) { status } }`;

/** The client recipes of docs/clients.md (examples/clients), with the real libraries against a real server. */
describe('client recipes', () => {
  let t: TestApp;
  let instructor: UserRow;
  let instructorToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    instructorToken = await t.tokenFor(instructor);
    for (let i = 0; i < 7; i++) await t.make.course(instructor.id, { title: `Recipe course ${i}` });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A lesson in a course of the instructor's, and the mutation that makes it go live. */
  async function lessonToStart(title: string) {
    const course = await t.make.course(instructor.id);
    const lesson = await t.make.lesson(course.id, { title });
    return {
      courseId: gid('Course', course.id),
      start: () => t.gql(START, { id: gid('Lesson', lesson.id) }, { token: instructorToken }),
    };
  }

  describe('Apollo Client 4 (HttpLink + GraphQLWsLink)', () => {
    it('registers, then sends the token as Authorization', async () => {
      let token: string | undefined;
      const client = createEduFlowClient(t.url, () => token);
      try {
        const input = {
          email: `apollo-${Date.now()}@example.test`,
          password: 'plum-kettle-harbour-42',
          displayName: 'Apollo Reader',
        };
        const registered = await client.mutate({ mutation: RegisterDocument, variables: { input } });
        token = registered.data!.register.accessToken;
        const me = await client.query({ query: MeDocument, fetchPolicy: 'network-only' });
        expect(me.data!.me).toMatchObject({ displayName: 'Apollo Reader', role: 'STUDENT' });
      } finally {
        client.stop();
      }
    });

    it('pages the catalog with fetchMore, merged by relayStylePagination', async () => {
      const client = createEduFlowClient(t.url, () => undefined);
      try {
        const first = await client.query({ query: CatalogDocument, variables: { first: 3 } });
        expect(first.data!.courses.edges).toHaveLength(3);
        const { endCursor } = first.data!.courses.pageInfo;
        await client.query({ query: CatalogDocument, variables: { first: 3 } }); // from the cache
        const more = await client.query({ query: CatalogDocument, variables: { first: 3, after: endCursor } });
        expect(more.data!.courses.edges).toHaveLength(3);
        // fetchMore merges the next page into the cached list.
        const watched = client.watchQuery({ query: CatalogDocument, variables: { first: 3 } });
        const active = watched.subscribe(() => {});
        await watched.fetchMore({ variables: { after: endCursor } });
        active.unsubscribe();
        const merged = client.readQuery({ query: CatalogDocument, variables: { first: 3 } })!.courses;
        expect(merged.edges).toHaveLength(6);
        expect(new Set(merged.edges.map((e) => e.node.id)).size).toBe(6);
        const titles = merged.edges.map((e) => e.node.title);
        expect(titles).toEqual([...titles].sort());
      } finally {
        client.stop();
      }
    });

    it('receives lessonStatusChanged over GraphQLWsLink, signed in by connectionParams', async () => {
      await noSubscriptions(t);
      const client = createEduFlowClient(t.url, () => instructorToken);
      const { courseId, start } = await lessonToStart('Apollo live');
      const events: LessonStatusChangedSubscription[] = [];
      let onEvent!: () => void;
      const got = new Promise<void>((r) => (onEvent = r));
      const sub = client.subscribe({ query: LessonStatusChangedDocument, variables: { courseId } }).subscribe({
        next: (r) => {
          if (r.data) events.push(r.data);
          onEvent();
        },
      });
      try {
        await startOnceSubscribed(t, start);
        await got;
        const change = events[0]!.lessonStatusChanged;
        expect(change).toMatchObject({
          previousStatus: 'SCHEDULED',
          status: 'IN_PROGRESS',
          lesson: { title: 'Apollo live' },
        });
        const at: string = change.changedAt; // DateTime is a string in the generated types
        expect(Date.parse(at)).not.toBeNaN();
      } finally {
        sub.unsubscribe();
        client.stop();
      }
    });
  });

  describe('urql', () => {
    it('with its defaults, a query is refused as a possible CSRF (GET without a preflight header)', async () => {
      const client = new Client({ url: t.url, exchanges: [fetchExchange] });
      const result = await client.query(CatalogDocument, { first: 1 }).toPromise();
      expect(result.data).toBeUndefined();
      expect(result.error?.message).toMatch(/CSRF/i);
    });

    it('works with preferGetMethod: false, the token in fetchOptions', async () => {
      const { client, dispose } = createEduFlowUrqlClient(t.url, () => instructorToken);
      try {
        const catalog = await client.query(CatalogDocument, { first: 2 }).toPromise();
        expect(catalog.error).toBeUndefined();
        expect(catalog.data!.courses.edges).toHaveLength(2);
        const me = await client.query(MeDocument, {}).toPromise();
        expect(me.data!.me!.id).toBe(gid('User', instructor.id));
      } finally {
        await dispose();
      }
    });

    it('keeps GET (cacheable) with the apollo-require-preflight header', async () => {
      const client = new Client({
        url: t.url,
        exchanges: [fetchExchange],
        fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
      });
      const result = await client.query(CatalogDocument, { first: 1 }).toPromise();
      expect(result.error).toBeUndefined();
      expect(result.data!.courses.edges).toHaveLength(1);
    });

    it('subscribes through subscriptionExchange over graphql-ws', async () => {
      await noSubscriptions(t);
      const { client, dispose } = createEduFlowUrqlClient(t.url, () => instructorToken);
      const { courseId, start } = await lessonToStart('urql live');
      let onEvent!: (d: LessonStatusChangedSubscription) => void;
      const got = new Promise<LessonStatusChangedSubscription>((r) => (onEvent = r));
      const { unsubscribe } = client
        .subscription(LessonStatusChangedDocument, { courseId })
        .subscribe((r) => r.data && onEvent(r.data));
      try {
        await startOnceSubscribed(t, start);
        expect((await got).lessonStatusChanged).toMatchObject({
          status: 'IN_PROGRESS',
          lesson: { title: 'urql live' },
        });
      } finally {
        unsubscribe();
        await dispose();
      }
    });
  });

  describe('graphql-ws on Node 20', () => {
    it('needs webSocketImpl from ws, then subscribes with the token in connectionParams', async () => {
      await noSubscriptions(t);
      const socket = createEduFlowSocket(t.url, instructorToken);
      const { courseId, start } = await lessonToStart('bare live');
      const events = socket.iterate({
        query: `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { title } } }`,
        variables: { c: courseId },
      });
      try {
        const next = events.next();
        await startOnceSubscribed(t, start);
        expect((await next).value).toEqual({
          data: { lessonStatusChanged: { status: 'IN_PROGRESS', lesson: { title: 'bare live' } } },
        });
      } finally {
        await events.return?.();
        await socket.dispose();
      }
    });
  });

  describe('Relay (relay-runtime, operations compiled by relay-compiler)', () => {
    it('normalises records by global ID, and node(id:) refetches into the same record', async () => {
      const environment = createEduFlowRelayEnvironment(t.url, () => undefined);
      const catalog = await fetchQuery<relayCatalogQuery>(environment, CatalogQuery, { first: 2 }).toPromise();
      const first = catalog!.courses.edges[0]!.node;
      const source = environment.getStore().getSource();
      expect(source.get(first.id)).toMatchObject({ __id: first.id, __typename: 'Course', title: first.title });
      const refetched = await fetchQuery<relayCatalogNodeQuery>(environment, NodeQuery, { id: first.id }).toPromise();
      expect(refetched!.node).toMatchObject({ id: first.id, title: first.title });
      expect(source.get(first.id)).toMatchObject({ title: first.title, priceCents: refetched!.node!.priceCents });
    });
  });

  describe('Relay conventions', () => {
    it('IDs are global: node(id:) refetches a course from the id the catalog gave', async () => {
      const { client, dispose } = createEduFlowUrqlClient(t.url, () => undefined);
      try {
        const catalog = await client.query(CatalogDocument, { first: 1 }).toPromise();
        const course = catalog.data!.courses.edges[0]!.node;
        expect(Buffer.from(course.id, 'base64').toString()).toMatch(/^Course:/);
        const byId = await client.query(CourseByIdDocument, { id: course.id }).toPromise();
        expect(byId.data!.node).toEqual({ id: course.id, title: course.title, priceCents: course.priceCents });
      } finally {
        await dispose();
      }
    });
  });
});

/** Accepted subscriptions (`eduflow_ws_subscriptions`), or those already authorized and listening. */
async function subscriptionCount(
  t: TestApp,
  gauge: 'eduflow_ws_subscriptions' | 'eduflow_ws_live_subscriptions' = 'eduflow_ws_subscriptions',
): Promise<number> {
  const text = await (await fetch(new URL('/metrics', t.url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${gauge} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Before subscribing: the previous test's subscriptions are gone, so the next count is ours. */
async function noSubscriptions(t: TestApp) {
  for (const gauge of ['eduflow_ws_subscriptions', 'eduflow_ws_live_subscriptions'] as const) {
    await vi.waitFor(
      async () => {
        const n = await subscriptionCount(t, gauge);
        expect(n).toBe(0);
        return n;
      },
      { timeout: 30_000, interval: 50 },
    );
  }
}

/**
 * Runs the mutation once the server is listening for the subscription (graphql-ws subscribes
 * asynchronously and acknowledges nothing; accepted is not yet listening: the course check is
 * still running).
 */
async function startOnceSubscribed(t: TestApp, start: () => Promise<unknown>) {
  await vi.waitFor(
    async () => {
      const n = await subscriptionCount(t, 'eduflow_ws_live_subscriptions');
      expect(n).toBeGreaterThan(0);
      return n;
    },
    { timeout: 30_000, interval: 50 },
  );
  await start();
}
