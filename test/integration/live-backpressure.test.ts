import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLContext } from '../../src/context.js';
import { createLoaders } from '../../src/loaders.js';
import { LessonEvents, LessonLive } from '../../src/modules/lessons/index.js';
import { createEventBus, type EventBus } from '../../src/pubsub/event-bus.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * A subscriber that stops reading must not make the server hold its events without bound:
 * past SUBSCRIPTION_MAX_QUEUED undelivered events its connection is dropped. Real Redis
 * pub/sub, real database; the "client" is simply a consumer that never pulls.
 */
describe('slow subscribers', () => {
  let t: TestApp;
  let bus: EventBus;

  beforeAll(async () => {
    t = await startTestApp({ SUBSCRIPTION_MAX_QUEUED: '5' });
    bus = createEventBus(t.app.config, t.app.log);
  });
  afterAll(async () => {
    await bus?.close();
    await t?.close();
  });

  it('are disconnected once too many events wait for them', async () => {
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    const course = await t.make.course(owner.id);
    const lesson = await t.make.lesson(course.id);
    const viewer = { userId: owner.id, role: 'INSTRUCTOR' as const, sessionId: null, tokenExpiresAt: null };
    const closes: Array<[number, string]> = [];
    const ctx = {
      viewer,
      loaders: createLoaders(t.app.database.db, viewer),
      disconnect: (code: number, reason: string) => closes.push([code, reason]),
    } as unknown as GraphQLContext;
    const live = new LessonLive(t.app.database.db, bus, { maxQueued: 5, log: t.app.log });
    const iterator = (await live.subscribe(ctx, gid('Course', course.id)))[Symbol.asyncIterator]();
    void iterator.next(); // the reader takes one event, then stalls forever

    const events = new LessonEvents(bus, t.app.log);
    for (let i = 0; i < 20; i++)
      await events.publish(await LessonEvents.record(t.app.database.db, lesson, 'SCHEDULED', owner.id));
    for (let i = 0; i < 50 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(closes).toEqual([[1008, 'Slow consumer: too many undelivered events']]);
  });
});
