import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { LOGIN, REFRESH, userWithPassword } from '../helpers/accounts.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { queryRows, startSmtpSink, type ReceivedMail } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe, type LiveClient } from '../helpers/ws-client.js';

const APP_URL = 'https://learn.example.test';
const OLD_PASSWORD = 'amber-orchard-violin-31';
const NEW_PASSWORD = 'copper-harbour-saffron-84';
const REQUEST_RESET = `mutation($e: String!) { requestPasswordReset(email: $e) }`;
const RESET = `mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { accessToken refreshToken user { id email } } }`;
const REQUEST_VERIFY = `mutation { requestEmailVerification }`;
const VERIFY = `mutation($t: String!) { verifyEmail(token: $t) { id } }`;

/** The text part of a raw message, quoted-printable decoded. */
function textOf(mail: ReceivedMail): string {
  const raw = mail.raw.replace(/\r\n/g, '\n');
  const part = /Content-Type: text\/plain[\s\S]*?\n\n([\s\S]*?)(?:\n--|$)/i.exec(raw)?.[1] ?? raw;
  const qp = /Content-Type: text\/plain[^\n]*\n(?:[^\n]+\n)*?Content-Transfer-Encoding: quoted-printable/i.test(raw);
  return qp
    ? part.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    : part;
}

/** The token of the link on a line of its own, as the contract's header describes. */
function tokenIn(mail: ReceivedMail, path: 'reset-password' | 'verify-email'): string {
  const line = textOf(mail)
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith(`${APP_URL}/${path}?token=`));
  if (!line) throw new Error(`no ${path} link in:\n${textOf(mail)}`);
  return decodeURIComponent(new URL(line).searchParams.get('token')!);
}

describe('account recovery and email verification', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  const sockets: LiveClient[] = [];

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      OUTBOX_POLL_MS: '100',
      SMTP_URL: smtp.url,
      PUBLIC_APP_URL: APP_URL,
      LOGIN_MAX_ATTEMPTS: '1000',
    });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await t?.close();
    await smtp?.close();
  });

  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));
  const waitForMail = (address: string, n = 1) =>
    vi.waitFor(
      async () => {
        const m = await mailsTo(address);
        expect(m.length).toBeGreaterThanOrEqual(n);
        return m;
      },
      { timeout: 20_000, interval: 50 },
    );
  const login = (user: UserRow, password: string) => t.gql(LOGIN, { input: { email: user.email, password } });
  const tokenRows = (userId: string) =>
    queryRows<{ token_hash: string | null; used_at: Date | null; emailed_at: Date | null }>(
      t.app.database.db,
      sql`select token_hash, used_at, emailed_at from account_tokens where user_id = ${userId}::uuid order by created_at`,
    );

  describe('password reset', () => {
    it('emails a link whose token sets a new password, ends every session and signs in afresh', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const first = (await login(user, OLD_PASSWORD)).data.login;
      const second = (await login(user, OLD_PASSWORD)).data.login;
      const socket = liveClient(t.url, { authorization: `Bearer ${second.accessToken}` });
      sockets.push(socket);
      await socket.connected;
      subscribe(socket, `subscription { lessonStatusChanged { status } }`);

      const asked = await t.gql(REQUEST_RESET, { e: user.email.toUpperCase() });
      expect(asked.errors).toBeUndefined();
      expect(asked.data.requestPasswordReset).toBe(true);
      const [mail] = await waitForMail(user.email);
      const token = tokenIn(mail!, 'reset-password');
      // Stored only as a hash: the emailed value appears nowhere in the database.
      const rows = await tokenRows(user.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.token_hash).not.toContain(token);
      expect(JSON.stringify(await queryRows(t.app.database.db, sql`select * from outbox`))).not.toContain(token);

      const reset = await t.gql(RESET, { t: token, p: NEW_PASSWORD });
      expect(reset.errors).toBeUndefined();
      expect(reset.data.resetPassword.user.email).toBe(user.email);
      // Every earlier session ended: refresh tokens, access tokens, sockets.
      expect(await socket.closed).toBe(4403);
      for (const s of [first, second]) {
        expect(codesOf(await t.gql(REFRESH, { t: s.refreshToken }))).toEqual(['UNAUTHENTICATED']);
        expect((await t.gql(`{ me { id } }`, {}, { token: s.accessToken })).status).toBe(401);
      }
      // The new session works; the old password does not, the new one does.
      expect((await t.gql(`{ me { id } }`, {}, { token: reset.data.resetPassword.accessToken })).data.me.id).toBe(
        reset.data.resetPassword.user.id,
      );
      expect(codesOf(await login(user, OLD_PASSWORD))).toEqual(['UNAUTHENTICATED']);
      expect((await login(user, NEW_PASSWORD)).errors).toBeUndefined();
      // Single use.
      expect(codesOf(await t.gql(RESET, { t: token, p: 'another-fresh-password-99' }))).toEqual(['BAD_USER_INPUT']);
    });

    it('answers true for an unknown address, in about the same time, and sends nothing', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const time = async (email: string) => {
        const started = performance.now();
        const res = await t.gql(REQUEST_RESET, { e: email });
        expect(res.errors).toBeUndefined();
        expect(res.data.requestPasswordReset).toBe(true);
        return performance.now() - started;
      };
      const known = await time(user.email);
      const unknown = await time(`nobody-${Date.now()}@example.test`);
      expect(unknown).toBeGreaterThanOrEqual(290); // both answer after the same floor
      expect(known).toBeGreaterThanOrEqual(290);
      expect(Math.abs(known - unknown)).toBeLessThan(250);
      await waitForMail(user.email);
      // A later email to the known address is the sentinel: the unknown one got none meanwhile.
      expect(smtp.received.filter((m) => m.to.some((to) => to.startsWith('nobody-')))).toHaveLength(0);
    });

    it('enforces the password policy without spending the token, and refuses made-up, expired and used tokens', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      await t.gql(REQUEST_RESET, { e: user.email });
      const token = tokenIn((await waitForMail(user.email))[0]!, 'reset-password');
      const weak = await t.gql(RESET, { t: token, p: 'short' });
      expect(codesOf(weak)).toEqual(['BAD_USER_INPUT']);
      expect(weak.errors![0]!.extensions!.fieldErrors).toHaveProperty('newPassword');
      const madeUp = await t.gql(RESET, { t: 'efat_madeup', p: NEW_PASSWORD });
      expect(codesOf(madeUp)).toEqual(['BAD_USER_INPUT']);
      expect(madeUp.errors![0]!.extensions!.fieldErrors).toHaveProperty('token');
      // Thirty minutes later the link is dead.
      await t.app.database.db.execute(
        sql`update account_tokens set expires_at = now() - interval '1 second' where user_id = ${user.id}::uuid`,
      );
      expect(codesOf(await t.gql(RESET, { t: token, p: NEW_PASSWORD }))).toEqual(['BAD_USER_INPUT']);
      expect((await login(user, OLD_PASSWORD)).errors).toBeUndefined();
    });

    it('lets exactly one of two concurrent resets with the same token through', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      await t.gql(REQUEST_RESET, { e: user.email });
      const token = tokenIn((await waitForMail(user.email))[0]!, 'reset-password');
      const results = await Promise.all([
        t.gql(RESET, { t: token, p: NEW_PASSWORD }),
        t.gql(RESET, { t: token, p: 'rival-password-value-77' }),
      ]);
      expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
      expect(results.flatMap(codesOf)).toEqual(['BAD_USER_INPUT']);
    });

    it('rejects an input that is no email address with BAD_USER_INPUT naming email', async () => {
      const res = await t.gql(REQUEST_RESET, { e: 'x'.repeat(300) });
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.errors![0]!.extensions!.fieldErrors).toHaveProperty('email');
    });
  });

  describe('email verification', () => {
    it('emails a single-use link that sets emailVerifiedAt', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const token = await t.tokenFor(user);
      expect((await t.gql(`{ me { emailVerifiedAt } }`, {}, { token })).data.me.emailVerifiedAt).toBeNull();
      expect((await t.gql(REQUEST_VERIFY, {}, { token })).data.requestEmailVerification).toBe(true);
      const link = tokenIn((await waitForMail(user.email))[0]!, 'verify-email');
      // Followed from a browser that is not signed in.
      const verified = await t.gql(VERIFY, { t: link });
      expect(verified.errors).toBeUndefined();
      expect(verified.data.verifyEmail.id).toBe(gid('User', user.id));
      const verifiedAt = (await t.gql(`{ me { emailVerifiedAt } }`, {}, { token })).data.me.emailVerifiedAt;
      expect(Date.parse(verifiedAt)).toBeGreaterThan(Date.now() - 60_000);
      expect((await t.gql(`{ me { emailVerifiedAt } }`, {}, { token })).data.me.emailVerifiedAt).toBe(verifiedAt);
      const again = await t.gql(VERIFY, { t: link });
      expect(codesOf(again)).toEqual(['BAD_USER_INPUT']);
      expect(again.errors![0]!.extensions!.fieldErrors).toHaveProperty('token');
    });

    it('refuses expired and made-up tokens, a reset token, and anonymous requests', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const token = await t.tokenFor(user);
      await t.gql(REQUEST_VERIFY, {}, { token });
      const link = tokenIn((await waitForMail(user.email))[0]!, 'verify-email');
      await t.app.database.db.execute(
        sql`update account_tokens set expires_at = now() - interval '1 second' where user_id = ${user.id}::uuid`,
      );
      expect(codesOf(await t.gql(VERIFY, { t: link }))).toEqual(['BAD_USER_INPUT']);
      expect(codesOf(await t.gql(VERIFY, { t: 'efat_' + 'A'.repeat(43) }))).toEqual(['BAD_USER_INPUT']);
      await t.gql(REQUEST_RESET, { e: user.email });
      const resetToken = tokenIn((await waitForMail(user.email, 2))[1]!, 'reset-password');
      expect(codesOf(await t.gql(VERIFY, { t: resetToken }))).toEqual(['BAD_USER_INPUT']);
      expect(codesOf(await t.gql(REQUEST_VERIFY))).toEqual(['UNAUTHENTICATED']);
    });

    it('is throttled per account', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const token = await t.tokenFor(user);
      for (let i = 0; i < 3; i++) expect((await t.gql(REQUEST_VERIFY, {}, { token })).errors).toBeUndefined();
      expect(codesOf(await t.gql(REQUEST_VERIFY, {}, { token }))).toEqual(['RATE_LIMITED']);
    });

    it('shows emailVerifiedAt to the user and admins only', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const other = await t.make.user({ role: 'INSTRUCTOR' });
      const q = `query($id: ID!) { user(id: $id) { emailVerifiedAt } }`;
      const admin = await t.make.user({ role: 'ADMIN' });
      expect((await t.gql(q, { id: gid('User', user.id) }, { token: await t.tokenFor(admin) })).errors).toBeUndefined();
      const otherRes = await t.gql(q, { id: gid('User', other.id) }, { token: await t.tokenFor(user) });
      expect(codesOf(otherRes)).toEqual(['FORBIDDEN']);
    });
  });

  it('sends every email through the outbox and the worker: the request only writes rows', async () => {
    const user = await userWithPassword(t, OLD_PASSWORD);
    await t.gql(REQUEST_RESET, { e: user.email });
    await waitForMail(user.email);
    const events = await queryRows<{ type: string; processed_at: Date | null }>(
      t.app.database.db,
      sql`select type, processed_at from outbox where payload->>'userId' = ${user.id}`,
    );
    expect(events.map((e) => e.type)).toEqual(['account.token-requested']);
    await vi.waitFor(
      async () => {
        const v = (await tokenRows(user.id))[0]!.emailed_at;
        expect(v !== null, JSON.stringify(v)).toBe(true);
        return v;
      },
      { timeout: 20_000, interval: 50 },
    );
  });

  describe('round 3', () => {
    const CHANGE = `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`;

    it('retires outstanding reset and verification links when the password is changed', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const token = await t.tokenFor(user);
      await t.gql(REQUEST_RESET, { e: user.email });
      await t.gql(REQUEST_VERIFY, {}, { token });
      await waitForMail(user.email, 2);
      const mails = mailsTo(user.email);
      const reset = tokenIn(
        mails.find((m) => m.raw.includes('reset-password'))!,
        'reset-password',
      );
      const verify = tokenIn(
        mails.find((m) => m.raw.includes('verify-email'))!,
        'verify-email',
      );
      const changed = await t.gql(
        CHANGE,
        { i: { currentPassword: OLD_PASSWORD, newPassword: NEW_PASSWORD } },
        { token: (await login(user, OLD_PASSWORD)).data.login.accessToken },
      );
      expect(changed.data).toEqual({ changePassword: true });
      // The old link in the mailbox no longer sets a password (nor signs anyone in).
      const takeover = await t.gql(RESET, { t: reset, p: 'mallow-quartz-beacon-66' });
      expect(codesOf(takeover)).toEqual(['BAD_USER_INPUT']);
      expect(takeover.errors![0]!.extensions!.fieldErrors).toHaveProperty('token');
      expect(codesOf(await t.gql(VERIFY, { t: verify }))).toEqual(['BAD_USER_INPUT']);
      expect((await login(user, NEW_PASSWORD)).data.login.user.id).toBe(gid('User', user.id));
    });

    it('answers verifyEmail with nothing private to a caller who is not signed in', async () => {
      const user = await userWithPassword(t, OLD_PASSWORD);
      const token = await t.tokenFor(user);
      await t.make.enrollment(user.id, (await t.make.course((await t.make.user({ role: 'INSTRUCTOR' })).id)).id);
      await t.gql(REQUEST_VERIFY, {}, { token });
      const link = tokenIn((await waitForMail(user.email))[0]!, 'verify-email');
      const res = await t.gql(
        `mutation($t: String!) { verifyEmail(token: $t) { id displayName email emailVerifiedAt
          sessions { id } enrollments(first: 5) { totalCount } schedule(first: 5) { totalCount } } }`,
        { t: link },
      );
      // Verified (the link did its job)...
      expect((await t.gql(`{ me { emailVerifiedAt } }`, {}, { token })).data.me.emailVerifiedAt).not.toBeNull();
      // ...but the answer holds public fields only: every private one refused at its path.
      expect(res.data.verifyEmail).toMatchObject({
        id: gid('User', user.id),
        email: null,
        emailVerifiedAt: null,
        sessions: null,
        enrollments: null,
        schedule: null,
      });
      expect(JSON.stringify(res.data)).not.toContain(user.email);
      expect(res.errors?.map((e) => e.path?.at(-1)).sort()).toEqual(
        ['email', 'emailVerifiedAt', 'enrollments', 'schedule', 'sessions'].sort(),
      );
    });

    it('refuses a verification link of another account to a signed-in caller, and keeps it usable', async () => {
      const owner = await userWithPassword(t, OLD_PASSWORD);
      const other = await userWithPassword(t, OLD_PASSWORD);
      await t.gql(REQUEST_VERIFY, {}, { token: await t.tokenFor(owner) });
      const link = tokenIn((await waitForMail(owner.email))[0]!, 'verify-email');
      const res = await t.gql(
        `mutation($t: String!) { verifyEmail(token: $t) { id email } }`,
        { t: link },
        {
          token: await t.tokenFor(other),
        },
      );
      expect(codesOf(res)).toEqual(['FORBIDDEN']);
      expect(JSON.stringify(res)).not.toContain(owner.email);
      const mine = await t.gql(
        `mutation($t: String!) { verifyEmail(token: $t) { id email } }`,
        { t: link },
        {
          token: await t.tokenFor(owner),
        },
      );
      expect(mine.data.verifyEmail).toEqual({ id: gid('User', owner.id), email: owner.email });
    });
  });
});

describe('password recovery a stranger cannot lock', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      OUTBOX_POLL_MS: '100',
      SMTP_URL: smtp.url,
      PUBLIC_APP_URL: APP_URL,
      TRUST_PROXY: 'true', // the client address comes from X-Forwarded-For
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
  const resetMails = (address: string) =>
    smtp.received.filter((m) => m.to.includes(address) && m.raw.includes('reset-password'));
  /** Waits for a mail to a fresh account: everything queued before it has been sent by then. */
  const sentinel = async () => {
    const other = await userWithPassword(t, OLD_PASSWORD);
    await t.gql(REQUEST_RESET, { e: other.email }, from('192.0.2.200'));
    await vi.waitFor(() => expect(resetMails(other.email)).toHaveLength(1), { timeout: 20_000 });
  };

  it('caps the mails, never the asking: the owner still asks, and always has a live link', async () => {
    const owner = await userWithPassword(t, OLD_PASSWORD);
    // A stranger, from several addresses, asks six times: every answer is true...
    for (let i = 0; i < 6; i++) {
      const res = await t.gql(REQUEST_RESET, { e: owner.email }, from(`198.51.100.${i + 1}`));
      expect(res.errors).toBeUndefined();
      expect(res.data.requestPasswordReset).toBe(true);
    }
    // ...and the mailbox got three links, no more.
    await vi.waitFor(() => expect(resetMails(owner.email).length).toBeGreaterThanOrEqual(3), { timeout: 20_000 });
    await sentinel();
    expect(resetMails(owner.email)).toHaveLength(3);
    // The owner asks from their own address: answered true, not refused.
    const mine = await t.gql(REQUEST_RESET, { e: owner.email }, from('203.0.113.7'));
    expect(mine.data.requestPasswordReset).toBe(true);
    // A link in the mailbox works.
    const link = tokenIn(resetMails(owner.email).at(-1)!, 'reset-password');
    expect((await t.gql(RESET, { t: link, p: NEW_PASSWORD })).errors).toBeUndefined();
    // With no live link left (the reset retired them all), the next request mails one again.
    await t.gql(REQUEST_RESET, { e: owner.email }, from('203.0.113.7'));
    await vi.waitFor(() => expect(resetMails(owner.email)).toHaveLength(4), { timeout: 20_000 });
  });

  it('mails again once the links in the mailbox have expired', async () => {
    const owner = await userWithPassword(t, OLD_PASSWORD);
    for (let i = 0; i < 4; i++) await t.gql(REQUEST_RESET, { e: owner.email }, from(`198.51.100.${50 + i}`));
    await vi.waitFor(() => expect(resetMails(owner.email).length).toBeGreaterThanOrEqual(3), { timeout: 20_000 });
    await sentinel();
    expect(resetMails(owner.email)).toHaveLength(3);
    await t.app.database.db.execute(
      sql`update account_tokens set expires_at = now() - interval '1 second' where user_id = ${owner.id}::uuid`,
    );
    await t.gql(REQUEST_RESET, { e: owner.email }, from('203.0.113.8'));
    await vi.waitFor(() => expect(resetMails(owner.email)).toHaveLength(4), { timeout: 20_000 });
  });

  it('limits one client address asking for many (RATE_LIMITED), not the others', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < 20; i++)
      expect(
        (await t.gql(REQUEST_RESET, { e: `ghost-${i}-${Date.now()}@example.test` }, from(ip))).errors,
      ).toBeUndefined();
    const limited = await t.gql(REQUEST_RESET, { e: `ghost-x-${Date.now()}@example.test` }, from(ip));
    expect(codesOf(limited)).toEqual(['RATE_LIMITED']);
    expect(limited.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    const elsewhere = await t.gql(REQUEST_RESET, { e: `ghost-y-${Date.now()}@example.test` }, from('192.0.2.78'));
    expect(elsewhere.data.requestPasswordReset).toBe(true);
  });
});
