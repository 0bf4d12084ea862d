import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logging/logger.js';
import { createMailer } from '../../src/mail/mailer.js';
import { renderAccountTokenEmail } from '../../src/modules/accounts/account-token.mailer.js';
import { AUTH_FIELDS, LOGIN, newAccount, REFRESH, REGISTER } from '../helpers/accounts.js';
import { startSmtpSink, type ReceivedMail } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const APP_URL = 'https://learn.example.test';

/** Every log line the process writes, as text. */
function captureLog() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { log: createLogger('debug', {}, stream), text: () => text };
}

/** The link on a line of its own in a message's text part (quoted-printable soft breaks undone). */
function linkIn(mail: ReceivedMail, path: string): string {
  const raw = mail.raw.replace(/\r\n/g, '\n').replace(/=\n/g, '').replace(/=3D/g, '=');
  const match = new RegExp(`${APP_URL}/${path}\\?token=[A-Za-z0-9_%-]+`).exec(raw);
  if (!match) throw new Error(`no ${path} link in:\n${raw}`);
  return match[0];
}
const tokenOf = (link: string) => decodeURIComponent(new URL(link).searchParams.get('token')!);

describe('no secret in any log line', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  const captured = captureLog();
  /** Everything that must never be logged, gathered as the flows produce it. */
  const secrets = new Map<string, string>();
  const keep = (what: string, value: string) => secrets.set(`${what} #${secrets.size}`, value);

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp(
      {
        LOG_LEVEL: 'debug',
        NOTIFICATION_WORKER: 'on',
        OUTBOX_POLL_MS: '100',
        SMTP_URL: smtp.url,
        PUBLIC_APP_URL: APP_URL,
        LOGIN_MAX_ATTEMPTS: '1000',
      },
      { log: captured.log },
    );
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('through sign-up, sign-in, refresh, sessions, verification, recovery and password change', async () => {
    const account = newAccount();
    keep('password', account.password);
    const linkTo = async (address: string, path: string) =>
      vi.waitFor(
        () => {
          const mail = smtp.received.find((m) => m.to.includes(address) && m.raw.includes(`/${path}?token`));
          if (!mail) throw new Error(`no ${path} mail yet`);
          return linkIn(mail, path);
        },
        { timeout: 30_000, interval: 50 },
      );
    const auth = (token: string) => {
      keep('Authorization', `Bearer ${token}`);
      return { token };
    };
    const remember = (payload: { accessToken: string; refreshToken: string }) => {
      keep('access token', payload.accessToken);
      keep('JWT signature', payload.accessToken.split('.')[2]!);
      keep('refresh token', payload.refreshToken);
      return payload;
    };

    const registered = remember((await t.gql(REGISTER, { input: account })).data.register);
    const signedIn = remember(
      (await t.gql(LOGIN, { input: { email: account.email, password: account.password } })).data.login,
    );
    // A wrong password too: the failure path logs as well.
    await t.gql(LOGIN, { input: { email: account.email, password: `${account.password}-wrong` } });
    const refreshed = remember((await t.gql(REFRESH, { t: signedIn.refreshToken })).data.refreshSession);
    const sessions = await t.gql(`{ me { sessions { id current } } }`, undefined, auth(refreshed.accessToken));
    expect(sessions.data.me.sessions.length).toBeGreaterThanOrEqual(2);
    const other = sessions.data.me.sessions.find((s: { current: boolean }) => !s.current).id;
    expect(
      (await t.gql(`mutation($id: ID!) { revokeSession(id: $id) }`, { id: other }, auth(refreshed.accessToken))).data,
    ).toEqual({ revokeSession: true });

    await t.gql(`mutation { requestEmailVerification }`, undefined, auth(refreshed.accessToken));
    const verifyLink = await linkTo(account.email, 'verify-email');
    keep('verification link', verifyLink);
    keep('verification token', tokenOf(verifyLink));
    const verified = await t.gql(`mutation($t: String!) { verifyEmail(token: $t) { emailVerifiedAt } }`, {
      t: tokenOf(verifyLink),
    });
    expect(verified.errors).toBeUndefined();

    await t.gql(`mutation($e: String!) { requestPasswordReset(email: $e) }`, { e: account.email });
    const resetLink = await linkTo(account.email, 'reset-password');
    keep('reset link', resetLink);
    keep('reset token', tokenOf(resetLink));
    const newPassword = 'saffron-meadow-lantern-93';
    keep('new password', newPassword);
    const reset = await t.gql(
      `mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { ${AUTH_FIELDS} } }`,
      { t: tokenOf(resetLink), p: newPassword },
    );
    remember(reset.data.resetPassword);
    // A used link again, and a password change from the new session.
    await t.gql(
      `mutation($t: String!, $p: String!) { resetPassword(input: { token: $t, newPassword: $p }) { accessToken } }`,
      {
        t: tokenOf(resetLink),
        p: newPassword,
      },
    );
    const changedTo = 'walnut-glacier-compass-57';
    keep('changed password', changedTo);
    const changed = await t.gql(
      `mutation($i: ChangePasswordInput!) { changePassword(input: $i) }`,
      { i: { currentPassword: newPassword, newPassword: changedTo } },
      auth(reset.data.resetPassword.accessToken),
    );
    expect(changed.data).toEqual({ changePassword: true });
    await t.gql(`mutation($t: String!) { logout(input: { refreshToken: $t }) }`, { t: registered.refreshToken });

    // The flows did log (the request lines and the worker's 'account email sent' at least)...
    await vi.waitFor(() => expect(captured.text()).toMatch(/account email sent[\s\S]*account email sent/), {
      timeout: 10_000,
    });
    expect(captured.log.isLevelEnabled('debug')).toBe(true);
    // ...and none of it carries a secret.
    const log = captured.text();
    const found = [...secrets].filter(([, value]) => log.includes(value)).map(([what]) => what);
    expect(found).toEqual([]);
    expect(log).not.toContain(`${APP_URL}/reset-password`);
    expect(log).not.toContain(`${APP_URL}/verify-email`);
    expect(log).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/); // no JWT at all
    expect(log).not.toMatch(/Bearer\s+\S/i);
  }, 90_000);
});

describe('the log mail transport', () => {
  it('writes recipient and subject only: no body, no link', async () => {
    const captured = captureLog();
    const mailer = createMailer(loadConfig({ NODE_ENV: 'development', MAIL_TRANSPORT: 'log' }).mail, captured.log);
    const link = `${APP_URL}/reset-password?token=secret-token-value-123`;
    await mailer.send(renderAccountTokenEmail('PASSWORD_RESET', 'ann@example.test', 'Ann', link));
    const lines = captured
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { mail?: unknown });
    expect(lines.map((l) => l.mail)).toEqual([{ to: 'ann@example.test', subject: 'Reset your EduFlow password' }]);
    expect(captured.text()).not.toContain('secret-token-value-123');
    expect(captured.text()).not.toContain('Hello Ann');
  });

  it('is what production uses only when asked for: no SMTP_URL and no MAIL_TRANSPORT=log refuses to start', () => {
    const base = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(48) };
    expect(() => loadConfig(base)).toThrow(/SMTP_URL: required in production/);
    expect(loadConfig({ ...base, MAIL_TRANSPORT: 'log' }).mail.transport).toBe('log');
    expect(loadConfig({ ...base, SMTP_URL: 'smtp://mail.example.test:587' }).mail.transport).toBe('smtp');
    expect(() => loadConfig({ ...base, MAIL_TRANSPORT: 'smtp' })).toThrow(
      /SMTP_URL: required when MAIL_TRANSPORT=smtp/,
    );
    expect(() => loadConfig({ ...base, MAIL_TRANSPORT: 'log', SMTP_URL: 'smtp://mail.example.test' })).toThrow(
      /MAIL_TRANSPORT: log sends nothing/,
    );
  });
});
