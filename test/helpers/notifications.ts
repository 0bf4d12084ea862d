import { expect, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { rowsOf, type Db } from '../../src/db/client.js';
import type { JobQueue } from '../../src/queue/jobs.js';

export async function queryRows<T = Record<string, unknown>>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

/** Notifications per recipient for a course's events: `{ total, maxPerRecipient, recipients }`. */
export async function notificationTally(db: Db, kind: string, courseId: string) {
  const [row] = await queryRows<{ total: number; recipients: number; max: number | null }>(
    db,
    sql`select count(*)::int as total, count(distinct recipient_id)::int as recipients,
          (select max(c)::int from (select count(*) as c from notifications where kind = ${kind} and course_id = ${courseId} group by event_id, recipient_id) x) as max
        from notifications where kind = ${kind} and course_id = ${courseId}`,
  );
  return { total: row!.total, recipients: row!.recipients, maxPerRecipientAndEvent: row!.max ?? 0 };
}

/** `n` students actively enrolled in a course, in one statement (fast enough for thousands). */
export async function enrollStudents(
  db: Db,
  courseId: string,
  n: number,
  tag = Math.random().toString(36).slice(2, 8),
): Promise<void> {
  await db.execute(sql`
    with s as (
      insert into users (email, display_name, password_hash, role)
      select 'bulk-' || ${tag} || '-' || i || '@example.test', 'Student ' || i, 'x', 'STUDENT'
      from generate_series(1, ${n}) as i
      returning id)
    insert into enrollments (student_id, course_id) select id, ${courseId}::uuid from s`);
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * A real SMTP server in the test process (the `smtp-server` package). `reject(n)` returns an
 * SMTP error for a message instead of accepting it: a mail server outage, as clients see it.
 */
export async function startSmtpSink(options: { reject?: (messageNumber: number) => boolean; delayMs?: number } = {}) {
  const received: ReceivedMail[] = [];
  let attempts = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        attempts++;
        if (options.reject?.(attempts)) {
          const err = Object.assign(new Error('Mailbox temporarily unavailable'), { responseCode: 451 });
          return callback(err);
        }
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  // A client killed mid-message resets its connection; smtp-server reports that as an error.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Resolves once the pipeline has nothing left in hand: no notification job waiting or
 * running (delayed ones are future reminders) and no email job waiting, running or delayed
 * (a delayed email job is a retry). The sentinel for "a duplicate, if any, would have landed":
 * every job that could send one has finished.
 */
export function pipelineSettled(jobs: JobQueue, timeoutMs = 30_000) {
  const busy = (c: Record<string, number>, ...states: string[]) => states.reduce((sum, s) => sum + (c[s] ?? 0), 0);
  return vi.waitFor(
    async () => {
      const c = await jobs.counts();
      expect(
        busy(c.notifications, 'waiting', 'active') === 0 && busy(c.email, 'waiting', 'active', 'delayed') === 0,
        JSON.stringify(c),
      ).toBe(true);
      return c;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}
