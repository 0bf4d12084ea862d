/**
 * npm run bench:notifications [-- <students>]   (STUDENTS=10000 WORKERS=1 also work)
 *
 * A lesson cancellation in a course with N actively enrolled students (default 10,000), in
 * the production topology: one API process and WORKERS worker processes (`src/worker.ts`) on
 * the local Postgres and Redis, mail going to an SMTP server in this process. Measures:
 *  - from the mutation's commit to the last notification row: seconds and rows per second
 *    (client clock: the mutation's response; and database clock: outbox row → last row);
 *  - from the commit to the last email received by the SMTP server: seconds, emails per second;
 *  - that every student got exactly one notification and one email.
 * Prints a table and writes bench/results/notifications-<N>.json and .md.
 */
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { TokenService } from '../src/auth/tokens.js';
import { rowsOf } from '../src/db/client.js';
import { authSessions, courses, lessons, users } from '../src/db/schema.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { benchRun, createBenchDatabase, dropBenchData, machineInfo, sleep, startProcess, stopProcess } from './lib.js';

const N = Number(process.argv[2] ?? process.env.STUDENTS ?? 10_000);
const WORKERS = Number(process.env.WORKERS ?? 1);
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const TIMEOUT_MS = 300_000;

const run = benchRun(PG_ADMIN);
const { dbName, dbUrl, redisPrefix, secret } = run;

async function seed() {
  const database = await createBenchDatabase(PG_ADMIN, run);
  const { db } = database;
  const [owner] = await db
    .insert(users)
    .values({ email: 'owner@bench.test', displayName: 'Owner', role: 'INSTRUCTOR', passwordHash: 'x' })
    .returning();
  const [course] = await db
    .insert(courses)
    .values({ instructorId: owner!.id, slug: 'bench', title: 'Bench course', status: 'PUBLISHED' })
    .returning();
  const [lesson] = await db
    .insert(lessons)
    .values({ courseId: course!.id, title: 'The big one', position: 0 })
    .returning();
  await db.execute(sql`
    with s as (
      insert into users (email, display_name, password_hash, role)
      select 's' || i || '@bench.test', 'Student ' || i, 'x', 'STUDENT' from generate_series(1, ${N}) i
      returning id)
    insert into enrollments (student_id, course_id) select id, ${course!.id}::uuid from s`);
  const [session] = await db
    .insert(authSessions)
    .values({ userId: owner!.id, expiresAt: new Date(Date.now() + 86_400_000) })
    .returning();
  const tokens = new TokenService({ secret, issuer: 'eduflow', audience: 'eduflow-api', accessTokenTtlSeconds: 3_600 });
  const ownerToken = (await tokens.signAccessToken({ userId: owner!.id, role: 'INSTRUCTOR', sessionId: session!.id }))
    .token;
  return { database, ownerToken, lessonId: lesson!.id };
}

function smtpSink() {
  const arrivals: number[] = [];
  const recipients = new Set<string>();
  let duplicates = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) {
          if (recipients.has(r.address)) duplicates++;
          recipients.add(r.address);
        }
        arrivals.push(performance.now());
        callback();
      });
    },
  });
  return new Promise<{
    url: string;
    arrivals: number[];
    recipients: Set<string>;
    duplicates: () => number;
    close: () => Promise<void>;
  }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.server.address() as { port: number };
      resolve({
        url: `smtp://127.0.0.1:${port}`,
        arrivals,
        recipients,
        duplicates: () => duplicates,
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}

const cleanup = () => dropBenchData(PG_ADMIN, dbName, REDIS_URL, redisPrefix);

async function main() {
  console.log(
    `notifications benchmark: a cancellation to ${N} students, ${WORKERS} worker process(es) (node ${process.version}, ${cpus().length} CPUs)`,
  );
  const processes: Array<Awaited<ReturnType<typeof startProcess>>['child']> = [];
  const smtp = await smtpSink();
  try {
    const { database, ownerToken, lessonId } = await seed();
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: secret,
      // The owner's token lives an hour: the server refuses tokens living longer than its TTL.
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      SMTP_URL: smtp.url,
      DB_MIGRATE_ON_START: 'false',
    };
    const api = await startProcess(
      ['--import', 'tsx', 'src/main.ts'],
      { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NOTIFICATION_WORKER: 'off' },
      /EduFlow GraphQL API: (http:\/\/\S+)/,
    );
    processes.push(api.child);
    for (let i = 0; i < WORKERS; i++) {
      processes.push(
        (
          await startProcess(
            ['--import', 'tsx', 'src/worker.ts'],
            { ...env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' },
            /EduFlow worker running/,
          )
        ).child,
      );
    }
    await sleep(1_000);

    const res = await fetch(api.match[1]!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ownerToken}` },
      body: JSON.stringify({
        query: `mutation($id: ID!) { cancelLesson(id: $id, reason: "Benchmark") { status } }`,
        variables: { id: toGlobalId('Lesson', lessonId) },
      }),
    });
    const committed = performance.now(); // the response follows the commit
    const body = (await res.json()) as { errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));

    const count = async () =>
      rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from notifications`))[0]!.n;
    let rowsDoneAt = 0;
    const deadline = Date.now() + TIMEOUT_MS;
    while (Date.now() < deadline) {
      if ((await count()) >= N) {
        rowsDoneAt = performance.now();
        break;
      }
      await sleep(10);
    }
    while (Date.now() < deadline && smtp.arrivals.length < N) await sleep(10);
    await sleep(1_000); // a duplicate, if any, would arrive now
    const [db] = rowsOf<{ span: number; total: number; people: number; emailed: number }>(
      await database.db.execute(sql`select
        extract(epoch from (select max(created_at) from notifications) - (select min(created_at) from outbox)) * 1000 as span,
        count(*)::int as total, count(distinct recipient_id)::int as people, count(emailed_at)::int as emailed from notifications`),
    );
    await database.close();

    const rowSeconds = (rowsDoneAt - committed) / 1000;
    const mailSeconds = ((smtp.arrivals.at(-1) ?? NaN) - committed) / 1000;
    const result = {
      date: new Date().toISOString(),
      machine: {
        ...machineInfo(),
      },
      students: N,
      workers: WORKERS,
      settings: { batchSize: 500, workerConcurrency: 4, mailConcurrency: 5 },
      notifications: {
        rows: db!.total,
        distinctRecipients: db!.people,
        secondsFromCommitToLastRow: Number(rowSeconds.toFixed(2)),
        rowsPerSecond: Math.round(N / rowSeconds),
        databaseClockMsFromOutboxToLastRow: Math.round(Number(db!.span)),
      },
      emails: {
        received: smtp.arrivals.length,
        distinctRecipients: smtp.recipients.size,
        duplicates: smtp.duplicates(),
        stampedEmailed: db!.emailed,
        secondsFromCommitToLastEmail: Number(mailSeconds.toFixed(2)),
        emailsPerSecond: Math.round(N / mailSeconds),
      },
    };
    const rows = [
      ['', 'in-app notifications', 'emails (SMTP sink)'],
      ['delivered / expected', `${db!.total} / ${N}`, `${smtp.arrivals.length} / ${N}`],
      ['distinct recipients', String(db!.people), String(smtp.recipients.size)],
      ['duplicates', String(db!.total - db!.people), String(smtp.duplicates())],
      ['commit → last (s)', rowSeconds.toFixed(2), mailSeconds.toFixed(2)],
      ['per second', String(result.notifications.rowsPerSecond), String(result.emails.emailsPerSecond)],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n')}\n`);
    console.log(
      `database clock, first outbox row → last notification row: ${result.notifications.databaseClockMsFromOutboxToLastRow} ms`,
    );
    writeFileSync(`bench/results/notifications-${N}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(
      `bench/results/notifications-${N}.md`,
      `# Notifications benchmark\n\n${result.date}, a lesson cancellation to ${N} enrolled students, 1 API + ${WORKERS} worker process(es), Node ${process.version}, ${cpus().length} CPUs (${result.machine.cpuModel}).\n` +
        `Produced by \`npm run bench:notifications -- ${N}\`; raw numbers in notifications-${N}.json.\n\n` +
        `| ${rows[0]!.join(' | ')} |\n|${rows[0]!.map(() => '---').join('|')}|\n${rows
          .slice(1)
          .map((r) => `| ${r.join(' | ')} |`)
          .join('\n')}\n\n` +
        `Database clock, first outbox row to last notification row: ${result.notifications.databaseClockMsFromOutboxToLastRow} ms.\n`,
    );
    if (db!.total !== N || db!.people !== N || smtp.recipients.size !== N || smtp.duplicates() > 0) {
      process.exitCode = 1;
      console.error('not every student got exactly one notification and one email');
    }
  } finally {
    for (const child of processes) await stopProcess(child);
    await smtp.close();
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
