import { describe, expect, it } from 'vitest';
import { backoffMs, MemoryAttemptStore, type BackoffPolicy } from '../../src/throttle/attempt-store.js';

const policy: BackoffPolicy = { free: 3, baseMs: 1_000, maxMs: 8_000, windowMs: 60_000 };
const one = (key = 'k', weight = 1) => [{ key, policy, weight }];

describe(MemoryAttemptStore.name, () => {
  it('allows the free attempts, then makes each next one wait twice as long, up to the cap', async () => {
    let now = 0;
    const store = new MemoryAttemptStore(() => now);
    for (let i = 0; i < 3; i++) expect(await store.attempt(one())).toEqual({ allowed: true });
    expect(await store.attempt(one())).toEqual({ allowed: false, retryAfterMs: 1_000 });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const blocked = await store.attempt(one());
      expect(blocked.allowed).toBe(false);
      const wait = (blocked as { retryAfterMs: number }).retryAfterMs;
      waits.push(wait);
      now += wait;
      expect(await store.attempt(one())).toEqual({ allowed: true });
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    await store.close();
  });

  it('forgets everything a window after the last attempt, so nobody is locked out for good', async () => {
    let now = 0;
    const store = new MemoryAttemptStore(() => now);
    for (let i = 0; i < 20; i++) {
      const r = await store.attempt(one());
      if (!r.allowed) now += r.retryAfterMs;
    }
    now += policy.windowMs + policy.maxMs + 1;
    for (let i = 0; i < 3; i++) expect(await store.attempt(one())).toEqual({ allowed: true });
    await store.close();
  });

  it('refuses a batch that would pass the allowance, and counts it', async () => {
    let now = 0;
    const store = new MemoryAttemptStore(() => now);
    const batch = await store.attempt(one('k', 15));
    expect(batch.allowed).toBe(false);
    expect((batch as { retryAfterMs: number }).retryAfterMs).toBe(8_000);
    now += 8_000;
    // 15 attempts are on the books: the next single one starts a long wait again.
    expect(await store.attempt(one())).toEqual({ allowed: true });
    expect(await store.attempt(one())).toMatchObject({ allowed: false });
    await store.close();
  });

  it('checks every key before counting any', async () => {
    const store = new MemoryAttemptStore(() => 0);
    for (let i = 0; i < 3; i++) await store.attempt(one('a'));
    const r = await store.attempt([...one('a'), ...one('b')]);
    expect(r.allowed).toBe(false);
    for (let i = 0; i < 3; i++) expect(await store.attempt(one('b'))).toEqual({ allowed: true });
    await store.close();
  });

  it('resets, refunds and keeps flags for their time', async () => {
    let now = 0;
    const store = new MemoryAttemptStore(() => now);
    for (let i = 0; i < 3; i++) await store.attempt(one());
    await store.reset('k');
    expect(await store.attempt(one())).toEqual({ allowed: true });
    await store.setFlag('f', 100);
    expect(await store.hasFlag('f')).toBe(true);
    now += 101;
    expect(await store.hasFlag('f')).toBe(false);
    await store.close();
  });

  it('computes back-off from the count', () => {
    expect([2, 3, 4, 5, 100].map((n) => backoffMs(policy, n))).toEqual([0, 1_000, 2_000, 4_000, 8_000]);
  });
});
