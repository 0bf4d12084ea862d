import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { graphqlClient } from '../helpers/graphql-client.js';
import { spawnApi } from '../helpers/spawn-api.js';
import { liveClient, primed, subscribe } from '../helpers/ws-client.js';
import { DEMO_PASSWORD } from '../../src/seed/demo-data.js';

/**
 * The newcomer's path: `npm start` with no DATABASE_URL, no REDIS_URL and an empty data
 * folder boots the real entry point on embedded Postgres, loads the demo catalog and
 * answers queries; SIGTERM shuts it down cleanly; a restart keeps the data.
 */
describe('embedded mode (npm start with no services)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eduflow-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('boots from an empty data folder, serves the demo catalog, and stops cleanly on SIGTERM', async () => {
    const first = await spawnApi({ DATA_DIR: dataDir });
    try {
      expect(first.output()).toContain('admin@eduflow.local');
      const res = await graphqlClient(first.url)(
        '{ courses(first: 3) { totalCount edges { node { title lessonCount instructor { displayName } } } } }',
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.courses.totalCount).toBe(14); // the published part of the 20 demo courses
      expect(res.data.courses.edges[0].node.lessonCount).toBe(10);
      const ready = await fetch(first.url.replace('/graphql', '/ready'));
      expect(ready.status).toBe(200);

      // Sign-in and live updates work too, over the in-memory pub/sub.
      const gql = graphqlClient(first.url);
      const login = await gql(
        `mutation { login(input: { email: "ada@eduflow.local", password: "${DEMO_PASSWORD}" }) { accessToken } }`,
      );
      const token = login.data.login.accessToken;
      const mine = await gql(`{ me { coursesTaught(first: 1) { edges { node { id } } } } }`, {}, { token });
      const courseId = mine.data.me.coursesTaught.edges[0].node.id;
      const socket = liveClient(first.url, { authorization: `Bearer ${token}` });
      try {
        const sub = subscribe(
          socket,
          `subscription($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus lesson { title } } }`,
          { c: courseId },
        );
        const create = () =>
          gql(
            `mutation($c: ID!) { createLesson(input: { courseId: $c, title: "Live" }) { id } }`,
            { c: courseId },
            { token },
          );
        await primed(sub, create);
        await create();
        expect((await sub.next()).data.lessonStatusChanged).toEqual({
          previousStatus: null,
          lesson: { title: 'Live' },
        });
      } finally {
        await socket.dispose();
      }

      // Notifications run through the in-process queue: a demo student enrolls and is told.
      const student = await gql(
        `mutation { login(input: { email: "student01@eduflow.local", password: "${DEMO_PASSWORD}" }) { accessToken } }`,
      );
      const studentToken = student.data.login.accessToken;
      const catalog = await gql(
        `{ courses(first: 20) { edges { node { id priceCents viewerEnrollment { status } } } } }`,
        {},
        { token: studentToken },
      );
      // A free course: a paid one needs an entitlement first.
      const open = catalog.data.courses.edges.find((e: any) => !e.node.viewerEnrollment && e.node.priceCents === 0).node
        .id;
      expect(
        (await gql(`mutation($c: ID!) { enroll(courseId: $c) { status } }`, { c: open }, { token: studentToken }))
          .errors,
      ).toBeUndefined();
      const inbox = `{ me { unreadNotificationCount notifications(first: 1) { edges { node { kind course { id } } } } } }`;
      let me: any;
      for (let i = 0; i < 100 && !me?.unreadNotificationCount; i++) {
        me = (await gql(inbox, {}, { token: studentToken })).data.me;
        if (!me.unreadNotificationCount) await new Promise((r) => setTimeout(r, 100));
      }
      expect(me.unreadNotificationCount).toBe(1);
      expect(me.notifications.edges[0].node).toEqual({ kind: 'ENROLLMENT_CONFIRMED', course: { id: open } });
      expect(first.output()).toContain('email not sent (MAIL_TRANSPORT=log)');
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(first.output()).toContain('shut down cleanly');
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(true);

    const second = await spawnApi({ DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toContain('demo data loaded');
      const res = await graphqlClient(second.url)('{ courses { totalCount } }');
      expect(res.data.courses.totalCount).toBe(14);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 180_000);
});
