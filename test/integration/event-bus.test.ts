import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createEventBus } from '../../src/pubsub/event-bus.js';
import { testRedisPrefix } from '../helpers/databases.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';

const busFor = (redisUrl?: string) =>
  createEventBus(
    loadConfig({
      JWT_SECRET: TEST_JWT_SECRET,
      ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: testRedisPrefix() } : {}),
    }),
    createLogger('silent'),
  );

describe('event bus', () => {
  it.each([
    ['Redis', TEST_REDIS_URL],
    ['in memory', undefined],
  ])('delivers to every subscriber of a topic and stops when told (%s)', async (_name, url) => {
    const bus = busFor(url);
    try {
      const a: unknown[] = [];
      const b: unknown[] = [];
      const stopA = await bus.subscribe('t', (p) => a.push(p));
      await bus.subscribe('t', (p) => b.push(p));
      await bus.subscribe('other', (p) => b.push(p));
      await bus.publish('t', { n: 1 });
      await vi.waitFor(
        async () => {
          const n = a.length + b.length;
          expect(n).toBe(2);
          return n;
        },
        { timeout: 20_000, interval: 50 },
      );
      stopA();
      stopA(); // idempotent
      await bus.publish('t', { n: 2 });
      // The sentinel: b, subscribed to the same topic, has { n: 2 }; a would have it by now too.
      await vi.waitFor(
        async () => {
          const n = b.length;
          expect(n).toBe(2);
          return n;
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(a).toEqual([{ n: 1 }]);
      expect(b).toEqual([{ n: 1 }, { n: 2 }]);
    } finally {
      await bus.close();
    }
  });

  it('rejects a subscription while Redis is unreachable, without an unhandled rejection', async () => {
    const bus = busFor('redis://127.0.0.1:1/0'); // nothing listens there
    try {
      await expect(bus.subscribe('t', () => {})).rejects.toThrow();
    } finally {
      await bus.close();
    }
  });
});
