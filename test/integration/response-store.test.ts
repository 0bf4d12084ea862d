import { afterAll, describe, expect, it } from 'vitest';
import {
  CLUSTER_CACHE_GROUPS,
  MemoryResponseStore,
  RedisResponseStore,
  type ResponseStore,
} from '../../src/cache/response-store.js';
import { testRedisPrefix } from '../helpers/databases.js';
import { onCluster, testRedisClient } from '../helpers/redis-topology.js';

const redis = testRedisClient({ keyPrefix: testRedisPrefix() });
afterAll(() => redis.disconnect());

describe.each([
  ['RedisResponseStore', () => new RedisResponseStore(redis, onCluster() ? CLUSTER_CACHE_GROUPS : 1)],
  ['MemoryResponseStore', () => new MemoryResponseStore(100)],
] as Array<[string, () => ResponseStore]>)('%s', (_name, make) => {
  it('stores with tags and drops every entry of an invalidated tag', async () => {
    const store = make();
    const { generation } = await store.get('k1');
    expect(await store.set('k1', 'one', 60, ['Course:1', 'Course:list'], generation)).toBe(true);
    expect(await store.set('k2', 'two', 60, ['Course:2'], generation)).toBe(true);
    expect((await store.get('k1')).value).toBe('one');
    await store.invalidate(['Course:list']);
    expect((await store.get('k1')).value).toBeNull();
    expect((await store.get('k2')).value).toBe('two');
  });

  it('refuses to store a response computed before an invalidation of one of its tags', async () => {
    const store = make();
    const before = await store.get('slow'); // a request starts executing...
    await store.invalidate(['Lesson:9']); // ...a write commits and invalidates meanwhile...
    expect(await store.set('slow', 'stale', 60, ['Lesson:9'], before.generation)).toBe(false); // ...its result is not kept
    expect((await store.get('slow')).value).toBeNull();
    // Unrelated tags are not affected, and a request that started after the write may store.
    expect(await store.set('other', 'fine', 60, ['Lesson:10'], before.generation)).toBe(true);
    const after = await store.get('slow');
    expect(await store.set('slow', 'fresh', 60, ['Lesson:9'], after.generation)).toBe(true);
  });
});
