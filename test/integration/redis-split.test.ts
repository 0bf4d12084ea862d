import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN, userWithPassword } from '../helpers/accounts.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { queuePrefix } from '../../src/queue/index.js';

/** Production runs BullMQ on a noeviction Redis and volatile data on an LRU one. */
describe('CACHE_REDIS_URL', () => {
  const cacheUrl = TEST_REDIS_URL.replace(/\/\d*$/, '') + '/3';
  let t: TestApp;
  const queueRedis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  const cacheRedis = new Redis(cacheUrl, { lazyConnect: true });
  const keys = async (r: Redis) => [...(await r.keys(`${t.redisPrefix}*`)), ...(await r.keys(`{${t.redisPrefix}*`))];

  beforeAll(async () => {
    t = await startTestApp({ CACHE_REDIS_URL: cacheUrl, NOTIFICATION_WORKER: 'on' });
    await Promise.all([queueRedis.connect(), cacheRedis.connect()]);
  });
  afterAll(async () => {
    const left = await keys(cacheRedis);
    if (left.length) await cacheRedis.del(...left);
    queueRedis.disconnect();
    cacheRedis.disconnect();
    await t?.close();
  });

  it('keeps throttle counters on the cache Redis and the job queue on REDIS_URL', async () => {
    const user = await userWithPassword(t, 'correct horse battery staple');
    await t.gql(LOGIN, { input: { email: user.email, password: 'wrong password here' } });
    const onCache = await keys(cacheRedis);
    const onQueue = await keys(queueRedis);
    expect(onCache.length).toBeGreaterThan(0);
    expect(onCache.every((k) => !k.includes('bull}:'))).toBe(true);
    expect(onQueue.some((k) => k.startsWith(`${queuePrefix(t.redisPrefix)}:`))).toBe(true);
    expect(onQueue.filter((k) => !k.startsWith(`${queuePrefix(t.redisPrefix)}:`))).toEqual([]);
  });
});
