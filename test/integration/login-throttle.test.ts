import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAttemptStore } from '../../src/throttle/redis-attempt-store.js';
import { LOGIN, userWithPassword } from '../helpers/accounts.js';
import { testRedisPrefix } from '../helpers/databases.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const PASSWORD = 'saffron-lighthouse-31';

describe('login throttling (Redis-backed)', () => {
  let t: TestApp;
  let redis: Redis;
  // Requests claim a client IP through X-Forwarded-For, trusted from loopback here.
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS: '5', TRUST_PROXY: 'loopback' });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis?.disconnect();
    await t?.close();
  });

  const login = (email: string, password: string, ip: string) => t.gql(LOGIN, { input: { email, password } }, from(ip));

  it('answers RATE_LIMITED with retryAfterSeconds at the N+1-th wrong password', async () => {
    const user = await userWithPassword(t, PASSWORD);
    for (let i = 0; i < 5; i++)
      expect(codesOf(await login(user.email, `wrong-guess-${i}-xx`, '198.51.100.1'))).toEqual(['UNAUTHENTICATED']);
    const sixth = await login(user.email, 'wrong-guess-6-xx', '198.51.100.1');
    expect(codesOf(sixth)).toEqual(['RATE_LIMITED']);
    expect(sixth.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers.get('retry-after'))).toBe(sixth.errors![0]!.extensions!.retryAfterSeconds);
    // Locked means locked: not even the right password gets through from there.
    expect(codesOf(await login(user.email, PASSWORD, '198.51.100.1'))).toEqual(['RATE_LIMITED']);
  });

  it('does not lock the owner out from another address', async () => {
    const user = await userWithPassword(t, PASSWORD);
    for (let i = 0; i < 7; i++) await login(user.email, `attacker-guess-${i}`, '198.51.100.2');
    const owner = await login(user.email, PASSWORD, '203.0.113.50');
    expect(owner.errors).toBeUndefined();
    expect(owner.data.login.user.email).toBe(user.email);
  });

  it('counts every aliased login field of a request', async () => {
    const user = await userWithPassword(t, PASSWORD);
    const aliases = Array.from(
      { length: 15 },
      (_, i) => `a${i}: login(input: { email: $e, password: "guess-number-${i}" }) { accessToken }`,
    );
    const batch = await t.gql(
      `mutation($e: String!) { ${aliases.join('\n')} }`,
      { e: user.email },
      from('198.51.100.3'),
    );
    expect(codesOf(batch)).toEqual(['RATE_LIMITED']);
    // Fifteen attempts are on the books, far past the allowance of five: a long wait follows.
    const next = await login(user.email, PASSWORD, '198.51.100.3');
    expect(codesOf(next)).toEqual(['RATE_LIMITED']);
    expect(next.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(60);
  });

  it('clears the count on success', async () => {
    const user = await userWithPassword(t, PASSWORD);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) await login(user.email, `nope-nope-${i}`, '198.51.100.4');
      expect((await login(user.email, PASSWORD, '198.51.100.4')).errors).toBeUndefined();
    }
  });

  it('keeps its counters in Redis under the deployment prefix, without emails in clear', async () => {
    const user = await userWithPassword(t, PASSWORD);
    await login(user.email, 'wrong-again-123', '198.51.100.5');
    const keys = await redis.keys(`${t.redisPrefix}login:*`);
    expect(keys.some((k) => k.includes('login:pair:'))).toBe(true);
    expect(keys.join()).not.toContain(user.email);
  });
});

describe(RedisAttemptStore.name, () => {
  it('applies the same back-off as the in-memory store, atomically across keys', async () => {
    const redis = new Redis(TEST_REDIS_URL, { keyPrefix: testRedisPrefix() });
    try {
      const store = new RedisAttemptStore(redis);
      const policy = { free: 2, baseMs: 200, maxMs: 400, windowMs: 5_000 };
      const a = [{ key: 'a', policy, weight: 1 }];
      expect(await store.attempt(a)).toEqual({ allowed: true });
      expect(await store.attempt(a)).toEqual({ allowed: true });
      const blocked = await store.attempt([...a, { key: 'b', policy, weight: 1 }]);
      expect(blocked.allowed).toBe(false);
      expect((blocked as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(200);
      expect(await redis.exists('b')).toBe(0); // nothing counted while blocked
      await new Promise((r) => setTimeout(r, 220)); // the point: the 200 ms back-off runs out (time is what it counts)
      expect(await store.attempt(a)).toEqual({ allowed: true });
      const capped = await store.attempt(a);
      expect(capped.allowed).toBe(false);
      expect((capped as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(400);
      await store.reset('a');
      expect(await store.attempt(a)).toEqual({ allowed: true });
    } finally {
      redis.disconnect();
    }
  });
});
