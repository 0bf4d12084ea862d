import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseStore } from '../../src/cache/response-store.js';
import { TimeoutError, withReplyTimeout, withTimeout } from '../../src/util/with-timeout.js';
import { startPrivateRedis } from '../helpers/services.js';

/** Keeps the event loop busy, as 50 concurrent requests do, without yielding to it. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

/**
 * The cache read's deadline measures Redis, not the queue in front of the reply: under load
 * (a busy event loop) a hit whose reply has arrived is served, never turned into a bypass;
 * a Redis that does not answer still fails fast.
 */
describe('cache read timeout', () => {
  let server: Awaited<ReturnType<typeof startPrivateRedis>>;
  let redis: Redis;
  let store: RedisResponseStore;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
    store = new RedisResponseStore(redis);
    await store.set('k', '{"data":{"ok":true}}', 60, ['T:1'], 0);
  });

  afterAll(async () => {
    server.thaw();
    redis.disconnect();
    await server.stop();
  });

  it('serves a reply that arrived while the event loop was busy past the deadline', async () => {
    await redis.ping(); // connected: the command below is written to the socket at once
    const read = withReplyTimeout(store.get('k'), 10, 'the cache read');
    block(300); // the reply arrives meanwhile; the 10 ms timer is long overdue
    await expect(read).resolves.toMatchObject({ value: '{"data":{"ok":true}}' });
  });

  it('(the plain timeout turns that same read into a miss: the bypasses under load)', async () => {
    await redis.ping();
    const read = withTimeout(store.get('k'), 10, 'the cache read');
    block(300);
    await expect(read).rejects.toBeInstanceOf(TimeoutError);
  });

  it('waits past the deadline while the caller says so (Redis answering other reads), bounded', async () => {
    await redis.ping();
    server.freeze();
    const thawed = new Promise((r) => setTimeout(r, 100)).then(() => server.thaw());
    const started = Date.now();
    const read = withReplyTimeout(store.get('k'), 10, 'the cache read', () => Date.now() - started < 5_000);
    await expect(read).resolves.toMatchObject({ value: '{"data":{"ok":true}}' });
    await thawed;
  });

  it('still gives up when Redis does not answer', async () => {
    await redis.ping();
    server.freeze();
    try {
      await expect(withReplyTimeout(store.get('k'), 10, 'the cache read')).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      server.thaw();
    }
  });
});
