import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase, type Database } from '../../src/db/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { createSession } from '../../src/modules/accounts/session.repository.js';
import { newAccount, LOGOUT, REFRESH, REGISTER } from '../helpers/accounts.js';
import { createTestDatabase, testRedisPrefix } from '../helpers/databases.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { gid, makeFactories } from '../helpers/factories.js';
import { codesOf, graphqlClient, type GraphQLClient } from '../helpers/graphql-client.js';
import { spawnApi, type RunningApi } from '../helpers/spawn-api.js';

/**
 * Revocation reaches every HTTP request within 2 seconds, on every instance:
 * two real API processes share Postgres and Redis; a revocation made through A is refused by
 * B. A third process, C, shares Postgres but hears nothing over pub/sub (another Redis key
 * prefix, so other channels): what it refuses, it learnt from its Postgres refresh alone, as
 * an instance would while Redis is unreachable.
 */
describe('revocation across API instances', () => {
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;
  let a: RunningApi, b: RunningApi, c: RunningApi;
  let gqlA: GraphQLClient, gqlB: GraphQLClient, gqlC: GraphQLClient;
  const tokens = new TokenService({
    secret: TEST_JWT_SECRET,
    issuer: 'eduflow',
    audience: 'eduflow-api',
    accessTokenTtlSeconds: 900,
  });
  const LIMIT_MS = 2_000;

  beforeAll(async () => {
    target = await createTestDatabase();
    const prefix = testRedisPrefix();
    const env = {
      DATABASE_URL: target.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      MAX_SOCKETS_PER_IP: '0',
    };
    [a, b, c] = await Promise.all([
      spawnApi(env),
      spawnApi(env),
      spawnApi({ ...env, REDIS_KEY_PREFIX: `${prefix}deaf:` }),
    ]);
    [gqlA, gqlB, gqlC] = [graphqlClient(a.url), graphqlClient(b.url), graphqlClient(c.url)];
    database = createDatabase(
      loadConfig({ DATABASE_URL: target.url, JWT_SECRET: TEST_JWT_SECRET }),
      createLogger('silent'),
    );
  }, 180_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    await database?.close();
    await target?.drop();
  });

  const tokenFor = async (user: { id: string; role: 'ADMIN' | 'INSTRUCTOR' | 'STUDENT' }) => {
    const { session } = await createSession(database.db, user.id, 1, 'vitest');
    return (await tokens.signAccessToken({ userId: user.id, role: user.role, sessionId: session.id })).token;
  };
  const ME = '{ me { id } }';

  /** Milliseconds from `since` until `gql` refuses the token (fails past the limit). */
  const refusedWithin = async (gql: GraphQLClient, token: string, since: number, query = ME): Promise<number> => {
    for (;;) {
      const res = await gql(query, {}, { token });
      if (res.status === 401) {
        expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
        expect(res.errors?.[0]?.extensions?.reason).toBe('TOKEN_REVOKED');
        return Date.now() - since;
      }
      expect(res.errors).toBeUndefined();
      if (Date.now() - since > LIMIT_MS)
        throw new Error(`token still accepted ${Date.now() - since} ms after the revocation`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const register = async () => {
    const res = await gqlA(REGISTER, { input: newAccount() });
    expect(res.errors).toBeUndefined();
    return res.data.register as { accessToken: string; refreshToken: string; user: { id: string } };
  };

  it('logout through A: B and C refuse the access token within 2 s', async () => {
    const session = await register();
    for (const gql of [gqlB, gqlC]) expect((await gql(ME, {}, { token: session.accessToken })).errors).toBeUndefined();
    const out = await gqlA(LOGOUT, { t: session.refreshToken });
    expect(out.data).toEqual({ logout: true });
    const since = Date.now();
    const [onB, onC] = await Promise.all([
      refusedWithin(gqlB, session.accessToken, since),
      refusedWithin(gqlC, session.accessToken, since),
    ]);
    expect(onB).toBeLessThan(LIMIT_MS);
    expect(onC).toBeLessThan(LIMIT_MS);
    // A refuses it at once: it applied the revocation before answering the logout.
    expect((await gqlA(ME, {}, { token: session.accessToken })).status).toBe(401);
  });

  it('a demoted instructor can no longer create courses with the old token (B and C)', async () => {
    const make = makeFactories(database.db);
    const admin = await make.user({ role: 'ADMIN' });
    const teacher = await make.user({ role: 'INSTRUCTOR' });
    const oldToken = await tokenFor(teacher);
    const create = `mutation { createCourse(input: { title: "Still teaching?" }) { id } }`;
    expect((await gqlB(create, {}, { token: oldToken })).errors).toBeUndefined();
    const demoted = await gqlA(
      `mutation($i: SetUserRoleInput!) { setUserRole(input: $i) { role } }`,
      { i: { userId: gid('User', teacher.id), role: 'STUDENT' } },
      { token: await tokenFor(admin) },
    );
    expect(demoted.data).toEqual({ setUserRole: { role: 'STUDENT' } });
    const since = Date.now();
    await Promise.all([
      refusedWithin(gqlB, oldToken, since, create.replace('Still teaching?', 'probe')),
      refusedWithin(gqlC, oldToken, since),
    ]);
    // A token issued after the change, with the new role, works everywhere.
    const fresh = await tokenFor({ id: teacher.id, role: 'STUDENT' });
    for (const gql of [gqlA, gqlB, gqlC])
      expect((await gql(ME, {}, { token: fresh })).data).toEqual({ me: { id: gid('User', teacher.id) } });
  });

  it('changePassword through A: the other session is refused by B and C, the caller keeps working', async () => {
    const account = newAccount();
    const first = (await gqlA(REGISTER, { input: account })).data.register;
    const second = (
      await gqlA(`mutation($i: LoginInput!) { login(input: $i) { accessToken } }`, {
        i: { email: account.email, password: account.password },
      })
    ).data.login;
    const changed = await gqlA(
      `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`,
      { i: { currentPassword: account.password, newPassword: 'quartz-lantern-meadow-77' } },
      { token: first.accessToken },
    );
    expect(changed.data).toEqual({ changePassword: true });
    const since = Date.now();
    await Promise.all([refusedWithin(gqlB, second.accessToken, since), refusedWithin(gqlC, second.accessToken, since)]);
    expect((await gqlB(ME, {}, { token: first.accessToken })).errors).toBeUndefined();
  });

  it('reuse of a rotated refresh token through A: the session is refused by B and C', async () => {
    const session = await register();
    const rotated = (await gqlA(REFRESH, { t: session.refreshToken })).data.refreshSession;
    const reuse = await gqlA(REFRESH, { t: session.refreshToken });
    expect(codesOf(reuse)).toEqual(['UNAUTHENTICATED']);
    const since = Date.now();
    await Promise.all([
      refusedWithin(gqlB, rotated.accessToken, since),
      refusedWithin(gqlC, session.accessToken, since),
    ]);
  });

  it('a token whose iat is in the future is refused', async () => {
    const user = await makeFactories(database.db).user();
    const { session } = await createSession(database.db, user.id, 1, 'vitest');
    const { token } = await tokens.signAccessToken(
      { userId: user.id, role: 'STUDENT', sessionId: session.id },
      new Date(Date.now() + 5 * 60_000),
    );
    const res = await gqlB(ME, {}, { token });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.reason).toBe('TOKEN_INVALID');
  });
});
