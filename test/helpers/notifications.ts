import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import type { Db } from '../../src/db/client.js';

/** Polls `read` until `done` holds for its value, or fails after `timeoutMs` with the last value. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function queryRows<T = Record<string, unknown>>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await db.execute(query);
  return (Array.isArray(result) ? result : (result as unknown as { rows: T[] }).rows) as T[];
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
export async function enrollStudents(db: Db, courseId: string, n: number, tag = Math.random().toString(36).slice(2, 8)): Promise<void> {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    attempts: () => attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A Redis server of the test's own (the machine's redis-server binary on a free port), so a
 * test can stop and restart it without disturbing the shared one other tests use.
 */
export async function startPrivateRedis(port?: number) {
  const p = port ?? (await freePort());
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {
      stdio: 'ignore',
    });
    // Ready once it accepts connections.
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = connect(p, '127.0.0.1');
          socket.once('connect', () => {
            socket.end();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      (ok) => ok,
      10_000,
    );
  };
  await start();
  return {
    url: `redis://127.0.0.1:${p}/0`,
    port: p,
    /** Kills the server (as an outage would); its data is gone, as the brief's Redis keeps none. */
    async stop() {
      const c = child!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    start,
  };
}
