import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/auth/viewer.js';
import { MemoryResponseStore } from '../../src/cache/response-store.js';
import { ResponseCache } from '../../src/cache/response-cache.js';
import { createLogger } from '../../src/logging/logger.js';

/** A store that counts ETag reads and answers each after `delayMs`, with the record as it was when the read arrived. */
class CountingStore extends MemoryResponseStore {
  etagReads = 0;
  delayMs = 0;
  override async getPrefix(key: string, length: number): Promise<string | null> {
    this.etagReads++;
    const prefix = await super.getPrefix(key, length);
    await new Promise((r) => setTimeout(r, this.delayMs));
    return prefix;
  }
}

const OP = { entryKey: 'catalog', maxAge: 60, scope: 'PUBLIC', operationName: null } as const;
const KEY = 'r2:anon:catalog';
const record = (etag: string, title: string) => `"${etag.padEnd(22, '_')}"{"data":{"title":"${title}"}}`;

describe('ResponseCache early hits on a held record', () => {
  const setUp = async () => {
    const store = new CountingStore(100);
    const cache = new ResponseCache(store, { enabled: true, timeoutMs: 1_000, log: createLogger('silent') });
    await store.set(KEY, record('one', 'Old'), 60, ['Course:1'], 0);
    expect((await cache.storedFor(ANONYMOUS, OP))?.etag).toBe(`"${'one'.padEnd(22, '_')}"`); // now held
    store.etagReads = 0;
    return { store, cache };
  };

  it('checks the ETag once for all the hits on the record that arrive in one turn of the event loop', async () => {
    const { store, cache } = await setUp();
    const hits = await Promise.all(Array.from({ length: 10 }, () => cache.storedFor(ANONYMOUS, OP)));
    expect(hits.every((h) => h?.body.toString() === '{"data":{"title":"Old"}}\n')).toBe(true);
    expect(store.etagReads).toBe(1);
    // The next turn reads again.
    await cache.storedFor(ANONYMOUS, OP);
    expect(store.etagReads).toBe(2);
    cache.close();
  });

  it('never answers a hit with a read sent before it arrived: a record replaced meanwhile is the one served', async () => {
    const { store, cache } = await setUp();
    store.delayMs = 30;
    const early = cache.storedFor(ANONYMOUS, OP);
    await new Promise((r) => setImmediate(r)); // the first read has gone to the store
    expect(store.etagReads).toBe(1);
    await store.invalidate(['Course:1']);
    await store.set(KEY, record('two', 'New'), 60, [], 1);
    const late = await cache.storedFor(ANONYMOUS, OP);
    expect(store.etagReads).toBe(2);
    expect(late?.body.toString()).toBe('{"data":{"title":"New"}}\n');
    expect((await early)?.body.toString()).toBe('{"data":{"title":"Old"}}\n');
    cache.close();
  });
});
