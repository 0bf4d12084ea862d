import { gid } from './factories.js';
import type { TestApp } from './test-app.js';
import { liveClient, subscribe, type LiveClient, type Subscription } from './ws-client.js';

/**
 * `perApi` students enrolled in a course on each API, each subscribed to `query` (with the
 * course's global id as `$c`) on its own socket. Not primed; the caller disposes `clients`.
 */
export async function followersOn(
  apis: TestApp[],
  courseId: string,
  query: string,
  clients: LiveClient[],
  perApi = 2,
): Promise<Subscription[]> {
  const subs: Subscription[] = [];
  for (const t of apis) {
    for (let i = 0; i < perApi; i++) {
      const student = await t.make.user();
      await t.make.enrollment(student.id, courseId);
      const client = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(student)}` });
      clients.push(client);
      subs.push(subscribe(client, query, { c: gid('Course', courseId) }));
    }
  }
  return subs;
}
