import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newAccount, REGISTER } from '../helpers/accounts.js';
import { queryRows, startSmtpSink } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const MINE = `query { me { notifications(first: 10) { edges { node { kind title body } } } } }`;

describe('WELCOME notification', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      OUTBOX_POLL_MS: '100',
      SMTP_URL: smtp.url,
      REGISTRATIONS_PER_HOUR: '1000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('is sent once after register, in the app and by email, through the outbox and the worker', async () => {
    const input = newAccount();
    const res = await t.gql(REGISTER, { input });
    expect(res.errors).toBeUndefined();
    const { accessToken } = res.data.register;
    const mails = await vi.waitFor(
      async () => {
        const m = await smtp.received.filter((m) => m.to.includes(input.email));
        expect(m.length).toBeGreaterThanOrEqual(1);
        return m;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(mails[0]!.raw).toMatch(/Welcome to EduFlow/);
    const notes = (await t.gql(MINE, {}, { token: accessToken })).data.me.notifications.edges.map((e: any) => e.node);
    expect(notes).toEqual([
      { kind: 'WELCOME', title: 'Welcome to EduFlow', body: expect.stringContaining('Your account is ready') },
    ]);
    // The event went through the outbox, and was processed.
    const events = await queryRows<{ type: string; processed_at: Date | null }>(
      t.app.database.db,
      sql`select type, processed_at from outbox where payload->>'userId' = (select id::text from users where email = ${input.email})`,
    );
    expect(events.map((e) => e.type)).toEqual(['user.registered']);
    await vi.waitFor(
      async () => {
        const v = (
          await queryRows<{ processed_at: Date | null }>(
            t.app.database.db,
            sql`select processed_at from outbox where type = 'user.registered' and payload->>'userId' = (select id::text from users where email = ${input.email})`,
          )
        )[0]!.processed_at;
        expect(v !== null, JSON.stringify(v)).toBe(true);
        return v;
      },
      { timeout: 20_000, interval: 50 },
    );
  });

  it('is not sent twice when its outbox event is relayed again (a lost job, a crash)', async () => {
    const input = newAccount();
    expect((await t.gql(REGISTER, { input })).errors).toBeUndefined();
    await vi.waitFor(
      async () => {
        const n = smtp.received.filter((m) => m.to.includes(input.email)).length;
        expect(n).toBe(1);
        return n;
      },
      { timeout: 20_000, interval: 50 },
    );
    // As the relay's sweep does for an event it believes lost: queue it once more.
    await t.app.database.db.execute(
      sql`update outbox set relayed_at = null, processed_at = null where type = 'user.registered' and payload->>'userId' = (select id::text from users where email = ${input.email})`,
    );
    await vi.waitFor(
      async () => {
        const v = (
          await queryRows<{ processed_at: Date | null }>(
            t.app.database.db,
            sql`select processed_at from outbox where type = 'user.registered' and payload->>'userId' = (select id::text from users where email = ${input.email})`,
          )
        )[0]!.processed_at;
        expect(v !== null, JSON.stringify(v)).toBe(true);
        return v;
      },
      { timeout: 20_000, interval: 50 },
    );
    // A later registration's email is the sentinel: by then a duplicate would have arrived.
    const later = newAccount();
    await t.gql(REGISTER, { input: later });
    await vi.waitFor(
      async () => {
        const n = smtp.received.filter((m) => m.to.includes(later.email)).length;
        expect(n).toBe(1);
        return n;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(smtp.received.filter((m) => m.to.includes(input.email))).toHaveLength(1);
    const [row] = await queryRows<{ n: number }>(
      t.app.database.db,
      sql`select count(*)::int as n from notifications where kind = 'WELCOME' and recipient_id = (select id from users where email = ${input.email})`,
    );
    expect(row!.n).toBe(1);
  });

  it('is not written for a registration that failed (the event commits with the account or not at all)', async () => {
    const input = newAccount();
    await t.gql(REGISTER, { input });
    const again = await t.gql(REGISTER, { input: { ...input, displayName: 'Twice' } });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const [row] = await queryRows<{ n: number }>(
      t.app.database.db,
      sql`select count(*)::int as n from outbox where type = 'user.registered' and payload->>'userId' in (select id::text from users where lower(email) = lower(${input.email}))`,
    );
    expect(row!.n).toBe(1);
  });
});
