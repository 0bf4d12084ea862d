import { describe, expect, it } from 'vitest';
import { MemoryResponseStore } from '../../src/cache/response-store.js';
import { ResponseCache } from '../../src/cache/response-cache.js';
import { createLogger } from '../../src/logging/logger.js';

/** A store whose invalidations fail until `healthy` is set. */
class FlakyStore extends MemoryResponseStore {
  healthy = false;
  invalidated: string[][] = [];
  override async invalidate(tags: readonly string[]): Promise<void> {
    if (!this.healthy) throw new Error('redis away');
    this.invalidated.push([...tags]);
    await super.invalidate(tags);
  }
}

describe('ResponseCache invalidation failures', () => {
  it('tells every instance to bypass, and keeps retrying until the tags are invalidated', async () => {
    const store = new FlakyStore(100);
    const broadcast: string[][] = [];
    const cache = new ResponseCache(store, {
      enabled: true,
      timeoutMs: 10,
      log: createLogger('silent'),
      broadcastFailure: (tags) => broadcast.push(tags),
    });
    try {
      await cache.invalidate(['Course:1']);
      expect(broadcast).toEqual([['Course:1']]);
      expect(cache.bypassing).toBe(true);
      store.healthy = true;
      for (let i = 0; i < 40 && cache.bypassing; i++) await new Promise((r) => setTimeout(r, 100));
      expect(cache.bypassing).toBe(false);
      expect(store.invalidated).toContainEqual(['Course:1']);
    } finally {
      cache.close();
    }
  });
});
