import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { startPrivateRedis } from '../helpers/services.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe, type LiveClient, type Subscription } from '../helpers/ws-client.js';

const SUB = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { cursor lesson { title } } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;

/**
 * Pub/sub drops what is published while a subscriber connection is away. The API notices its
 * subscriber connection dropped and, once subscribed again, replays what its open
 * subscriptions missed from the durable lesson_events log: every subscriber gets every event
 * exactly once, in order. On a private Redis: CLIENT KILL TYPE pubsub cuts every subscriber.
 */
describe('live delivery across a pub/sub gap', () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let admin: Redis;
  let t: TestApp;
  let owner: UserRow;
  let ownerToken: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    admin = new Redis(redis.url);
    t = await startTestApp({ REDIS_URL: redis.url });
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    ownerToken = await t.tokenFor(owner);
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.dispose()));
    await t?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  const newLesson = (course: CourseRow, title: string) =>
    t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: title }, { token: ownerToken });

  it('gives every subscriber every event exactly once, in order, when the subscriber connection is killed', async () => {
    const course = await t.make.course(owner.id);
    const subs: Subscription[] = [];
    for (let i = 0; i < 3; i++) {
      const student = await t.make.user();
      await t.make.enrollment(student.id, course.id);
      const client = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(student)}` });
      clients.push(client);
      subs.push(subscribe(client, SUB, { c: gid('Course', course.id) }));
    }
    await primed(subs, () => newLesson(course, 'probe'));

    const titles = Array.from({ length: 40 }, (_, i) => `L${i}`);
    let killed = 0;
    for (const [i, title] of titles.entries()) {
      if (i === 10) killed = Number(await admin.client('KILL', 'TYPE', 'pubsub'));
      const res = await newLesson(course, title);
      expect(res.errors).toBeUndefined();
    }
    expect(killed).toBeGreaterThan(0);
    for (const sub of subs) {
      const got: string[] = [];
      for (let i = 0; i < titles.length; i++) got.push((await sub.next(10_000)).data.lessonStatusChanged.lesson.title);
      expect(got).toEqual(titles);
      expect(await sub.quiet(500)).toBe(true); // nothing twice
    }
  });
});
