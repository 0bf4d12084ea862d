import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { LOGIN, REFRESH, userWithPassword } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe, type LiveClient } from '../helpers/ws-client.js';

const PASSWORD = 'quiet-lantern-meadow-57';
const SESSIONS = `query { me { sessions { id current userAgent createdAt lastUsedAt } } }`;
const REVOKE = `mutation($id: ID!) { revokeSession(id: $id) }`;

interface SignIn {
  accessToken: string;
  refreshToken: string;
}

describe('sessions: me.sessions and revokeSession', () => {
  let t: TestApp;
  const sockets: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_ATTEMPTS: '1000' });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await t?.close();
  });

  const signIn = async (user: UserRow, userAgent: string): Promise<SignIn> => {
    const res = await t.gql(
      LOGIN,
      { input: { email: user.email, password: PASSWORD } },
      { headers: { 'user-agent': userAgent } },
    );
    expect(res.errors).toBeUndefined();
    return res.data.login;
  };
  const list = async (token: string) => {
    const res = await t.gql(SESSIONS, {}, { token });
    expect(res.errors).toBeUndefined();
    return res.data.me.sessions as Array<{
      id: string;
      current: boolean;
      userAgent: string;
      createdAt: string;
      lastUsedAt: string;
    }>;
  };

  it('lists the viewer’s sessions newest first, exactly one current, with user agents and times', async () => {
    const user = await userWithPassword(t, PASSWORD);
    await signIn(user, 'Laptop/1.0');
    const phone = await signIn(user, 'Phone/2.0');
    const fromPhone = await list(phone.accessToken);
    expect(fromPhone.map((s) => [s.userAgent, s.current])).toEqual([
      ['Phone/2.0', true],
      ['Laptop/1.0', false],
    ]);
    expect(Date.parse(fromPhone[0]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(fromPhone[1]!.createdAt));
    expect(fromPhone[0]!.lastUsedAt).not.toBeNull();
  });

  it('updates lastUsedAt when the session refreshes, not on every request', async () => {
    const user = await userWithPassword(t, PASSWORD);
    const s = await signIn(user, 'Tablet/3.0');
    const before = (await list(s.accessToken))[0]!.lastUsedAt;
    await list(s.accessToken); // requests alone do not touch it
    expect((await list(s.accessToken))[0]!.lastUsedAt).toBe(before);
    const refreshed = await t.gql(REFRESH, { t: s.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    const after = (await list(refreshed.data.refreshSession.accessToken))[0]!.lastUsedAt;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
  });

  it('revokes one session: its refresh token, its access token and its sockets stop; the current one goes on', async () => {
    const user = await userWithPassword(t, PASSWORD);
    const laptop = await signIn(user, 'Laptop/1.0');
    const phone = await signIn(user, 'Phone/2.0');
    const laptopSocket = liveClient(t.url, { authorization: `Bearer ${laptop.accessToken}` });
    const phoneSocket = liveClient(t.url, { authorization: `Bearer ${phone.accessToken}` });
    sockets.push(laptopSocket, phoneSocket);
    await Promise.all([laptopSocket.connected, phoneSocket.connected]);
    const phoneSub = subscribe(phoneSocket, `subscription { lessonStatusChanged { status } }`);

    const laptopId = (await list(phone.accessToken)).find((s) => !s.current)!.id;
    const res = await t.gql(REVOKE, { id: laptopId }, { token: phone.accessToken });
    expect(res.errors).toBeUndefined();
    expect(res.data.revokeSession).toBe(true);

    expect(await laptopSocket.closed).toBe(4403);
    expect(codesOf(await t.gql(REFRESH, { t: laptop.refreshToken }))).toEqual(['UNAUTHENTICATED']);
    const old = await t.gql(SESSIONS, {}, { token: laptop.accessToken });
    expect(old.status).toBe(401);
    // The current session is untouched: its list (without the revoked one), its socket.
    expect((await list(phone.accessToken)).map((s) => s.userAgent)).toEqual(['Phone/2.0']);
    expect(await phoneSub.quiet(200)).toBe(true);
    const stillOpen = await Promise.race([
      phoneSocket.closed.then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('open'), 300)),
    ]);
    expect(stillOpen).toBe('open');
    // Revoking it again: NOT_FOUND.
    expect(codesOf(await t.gql(REVOKE, { id: laptopId }, { token: phone.accessToken }))).toEqual(['NOT_FOUND']);
  });

  it("answers another user's session id with NOT_FOUND and changes nothing", async () => {
    const victim = await userWithPassword(t, PASSWORD);
    const attacker = await userWithPassword(t, PASSWORD);
    const v = await signIn(victim, 'Victim/1.0');
    const a = await signIn(attacker, 'Attacker/1.0');
    const victimSession = (await list(v.accessToken))[0]!.id;
    expect(codesOf(await t.gql(REVOKE, { id: victimSession }, { token: a.accessToken }))).toEqual(['NOT_FOUND']);
    expect(await list(v.accessToken)).toHaveLength(1);
    expect((await t.gql(REFRESH, { t: v.refreshToken })).errors).toBeUndefined();
    // Garbage ids and other kinds of id are NOT_FOUND too; anonymous callers UNAUTHENTICATED.
    for (const id of ['garbage', gid('User', victim.id)]) {
      expect(codesOf(await t.gql(REVOKE, { id }, { token: a.accessToken }))).toEqual(['NOT_FOUND']);
    }
    expect(codesOf(await t.gql(REVOKE, { id: victimSession }))).toEqual(['UNAUTHENTICATED']);
  });

  it('is readable by the user themself only (admins FORBIDDEN)', async () => {
    const user = await userWithPassword(t, PASSWORD);
    await signIn(user, 'Mine/1.0');
    const admin = await t.make.user({ role: 'ADMIN' });
    const res = await t.gql(
      `query($u: ID!) { user(id: $u) { id sessions { id } } }`,
      { u: gid('User', user.id) },
      { token: await t.tokenFor(admin) },
    );
    expect(res.data.user.id).toBe(gid('User', user.id));
    expect(codesOf(res)).toEqual(['FORBIDDEN']);
    expect(res.data.user.sessions).toBeNull();
  });
});
