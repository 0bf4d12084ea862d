/**
 * npm run bench:subscriptions [-- <subscribers>] [-- <subscribers> --mixed]
 *   (SUBSCRIBERS=10000 ROUNDS=5 MIXED=1 CONNECTING=100 RUNNER=dist|tsx also work)
 *
 * N real WebSocket subscribers (graphql-transport-ws) of a real API process (Postgres +
 * Redis, as in production), against a bare `ws` server broadcasting the same payload to the
 * same number of clients in the same run (EduFlow's rounds, then the bare server's: both
 * sets of clients at once would pass the 20,000 open files this process may have):
 *  - delivery latency from sending the mutation to each subscriber receiving the event
 *    (p50 / p95 / p99 / max), and how many were delivered (must be every one);
 *  - the server's resident memory per connection, and the time to connect and subscribe.
 * Default mode: every subscriber is an enrolled student on one course; one lesson start per
 * round. --mixed: 3 courses, three selection sets (one with `lesson { content }`), students
 * (each in one or two courses), the courses' instructors and admins, a fifth of them on
 * `courseId: null`; one lesson start per course per round; every subscriber must receive
 * exactly the events it may see, each payload equal to what its viewer reads over HTTP (the
 * bare server then broadcasts 3 messages per round). Needs the local Postgres and Redis (as
 * `npm test` does). Prints a table and writes bench/results/subscriptions-<N>[-mixed][-<BENCH_TAG>].json and .md.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { TokenService } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/db/client.js';
import { authSessions, courses, enrollments, lessons, users } from '../src/db/schema.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { createLogger } from '../src/logging/logger.js';
import { connectBare, connectGraphQLWs, type BenchClient as ProtocolClient } from './raw-ws-client.js';
import { inBatches, rssOf, sleep, startProcess, stopProcess, summarize, dropBenchData } from './lib.js';

const args = process.argv.slice(2);
const MIXED = args.includes('--mixed') || process.env.MIXED === '1';
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.SUBSCRIBERS ?? 2_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const DELIVERY_TIMEOUT_MS = 60_000;
/** Sockets connecting at once (the same for EduFlow and the bare server). */
const CONNECTING = Number(process.env.CONNECTING ?? 100);
/** The compiled build (`npm run build`), as the Dockerfile runs it; RUNNER=tsx runs the sources. */
const RUNNER = process.env.RUNNER ?? 'dist';
/** BENCH_HEAPSNAPSHOT=<dir>: a heap snapshot of the API process once every socket is connected. */
const HEAP_DIR = process.env.BENCH_HEAPSNAPSHOT;
/** CPU seconds a process has used (user + system, all its threads), from /proc. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15, in ticks of 10 ms
}
/**
 * CPU seconds used so far by this run's Postgres backends (their title names the run's
 * database: other databases' work on this machine is not counted) and by Redis.
 */
function storesCpuSeconds(): number {
  let sum = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('redis-server') || (cmdline.startsWith('postgres:') && cmdline.includes(dbName)))
        sum += cpuSecondsOf(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}
/** Busy and total CPU seconds of the whole machine so far, from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = ticks.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: (total - n[3]! - n[4]!) / 100, total: total / 100 };
}
/**
 * Where the CPU went while the sockets connected: the server process, this (client) process,
 * and the machine as a whole (Postgres, other load): is the server, the client or the machine
 * the bottleneck?
 */
function cpuMeter(pid: number) {
  const server0 = cpuSecondsOf(pid);
  const client0 = process.cpuUsage();
  const machine0 = machineCpu();
  const stores0 = storesCpuSeconds();
  return () => {
    const client = process.cpuUsage(client0);
    const machine = machineCpu();
    return {
      serverSeconds: Math.round((cpuSecondsOf(pid) - server0) * 100) / 100,
      clientSeconds: Math.round((client.user + client.system) / 1e4) / 100,
      /** This run's Postgres backends and Redis (backends that ended meanwhile are not counted). */
      storesSeconds: Math.round((storesCpuSeconds() - stores0) * 100) / 100,
      machineBusySeconds: Math.round((machine.busy - machine0.busy) * 100) / 100,
      machineSeconds: Math.round((machine.total - machine0.total) * 100) / 100,
    };
  };
}
type ConnectCpu = ReturnType<ReturnType<typeof cpuMeter>>;

const METRICS_TOKEN = `bench-metrics-${randomBytes(8).toString('hex')}`;
/** The API's `eduflow_ws_live_subscriptions` gauge. */
async function liveSubscriptions(url: string): Promise<number> {
  const res = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('eduflow_ws_live_subscriptions '));
  if (!line) throw new Error(`no eduflow_ws_live_subscriptions in /metrics (HTTP ${res.status})`);
  return Number(line.split(' ').pop());
}

/**
 * Transactions Postgres has counted in a database (each statement the API sends outside a
 * transaction is one). Postgres publishes these counts within about a second.
 */
async function transactionsOf(database: string): Promise<number> {
  const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} });
  try {
    await sleep(1_100);
    const [row] = await admin<Array<{ n: string }>>`
      select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = ${database}`;
    return Number(row?.n ?? NaN);
  } finally {
    await admin.end();
  }
}

/** How long each socket took (ms): to be upgraded (101), and from there to `connection_ack`. */
function socketTimings(clients: ProtocolClient[]) {
  return {
    upgrade: summarize(clients.map((c) => c.timing.upgraded - c.timing.start)),
    ack: summarize(clients.map((c) => c.timing.acknowledged - c.timing.upgraded).filter((ms) => !Number.isNaN(ms))),
  };
}

const SUBSCRIPTION = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus status changedAt lesson { id title status startedAt } } }`;
/** The mixed mode's selection sets. */
const MIXED_QUERIES = [
  SUBSCRIPTION,
  `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { id title content allowedTransitions } } }`,
  `subscription($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus changedAt lesson { id content } } }`,
];
const COURSES = MIXED ? 3 : 1;
const ADMINS = MIXED ? 30 : 0;
/** Sockets per instructor and per admin in the mixed mode. */
const STAFF_SOCKETS = 20;

const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const dbName = `eduflow_bench_${runId}`;
const redisPrefix = `eduflow:bench:${runId}:`;
const secret = randomBytes(32).toString('hex');

function dbUrl(name: string): string {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Round {
  delivered: number;
  expected: number;
  latencyMs: ReturnType<typeof summarize>;
}

type Match = (data: any) => boolean;

async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (Date.now() < deadline && !done()) await sleep(5);
}

/** Waits until no client has received anything for `ms` (late warm-up events drained). */
async function settle(clients: ProtocolClient[], ms: number): Promise<void> {
  for (let seen = -1; ;) {
    const total = clients.reduce((n, c) => n + c.received.length, 0);
    if (total === seen) return;
    seen = total;
    await sleep(ms);
  }
}

/** One subscriber of the benchmark: who, which selection, which courses it must hear. */
interface Subscriber {
  token: string;
  query: string;
  courseId: string | null;
  /** Indexes of the courses whose events it must receive. */
  hears: number[];
  /** Per course it hears: whose reading over HTTP its payload must equal (a user of the same audience). */
  readers: string[];
}

/**
 * Creates the database, the courses (the first two taught by one instructor, the third by
 * another), the students with sessions, admins, and their tokens; who subscribes to what.
 */
async function seed() {
  const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end();
  const database = createDatabase(
    loadConfig({ DATABASE_URL: dbUrl(dbName), JWT_SECRET: secret, LOG_LEVEL: 'warn' }),
    createLogger('warn'),
  );
  await database.migrate();
  const db = database.db;
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const owners = await db
    .insert(users)
    .values(
      [0, 1].map((i) => ({
        email: `owner${i}@bench.test`,
        displayName: `Owner ${i}`,
        role: 'INSTRUCTOR' as const,
        passwordHash: hash,
      })),
    )
    .returning();
  const courseRows = await db
    .insert(courses)
    .values(
      Array.from({ length: COURSES }, (_, i) => ({
        instructorId: owners[i < 2 ? 0 : 1]!.id,
        slug: `bench-${i}`,
        title: `Bench ${i}`,
        status: 'PUBLISHED' as const,
      })),
    )
    .returning();
  const lessonRows: Array<Array<{ id: string }>> = [];
  for (const course of courseRows) {
    lessonRows.push(
      await db
        .insert(lessons)
        .values(
          Array.from({ length: ROUNDS }, (_, i) => ({
            courseId: course.id,
            title: `Round ${i + 1}`,
            position: i,
            content: `Notes ${course.slug} ${i}`,
          })),
        )
        .returning({ id: lessons.id }),
    );
  }
  const staff = MIXED ? 2 * STAFF_SOCKETS + ADMINS * 2 : 0;
  const studentCount = N - staff;
  const people: Array<{ id: string; role: 'STUDENT' | 'ADMIN' }> = [];
  for (let i = 0; i < studentCount + ADMINS; i += 1_000) {
    const chunk = Array.from({ length: Math.min(1_000, studentCount + ADMINS - i) }, (_, j) => {
      const k = i + j;
      const role = k < studentCount ? ('STUDENT' as const) : ('ADMIN' as const);
      return { email: `u${k}@bench.test`, displayName: `User ${k}`, role, passwordHash: hash };
    });
    people.push(
      ...(await db.insert(users).values(chunk).returning({ id: users.id, role: users.role })).map((r) => ({
        id: r.id,
        role: r.role as 'STUDENT' | 'ADMIN',
      })),
    );
  }
  const students = people.slice(0, studentCount);
  const admins = people.slice(studentCount);
  /** The courses student i is enrolled in: one, or (every third student) two. */
  const coursesOf = (i: number) => (MIXED ? (i % 3 === 0 ? [i % COURSES, (i + 1) % COURSES] : [i % COURSES]) : [0]);
  const expiresAt = new Date(Date.now() + 86_400_000);
  const everyone = [...owners, ...people];
  const sessionIds: string[] = [];
  for (let i = 0; i < everyone.length; i += 1_000) {
    const part = everyone.slice(i, i + 1_000);
    sessionIds.push(
      ...(
        await db
          .insert(authSessions)
          .values(part.map((s) => ({ userId: s.id, expiresAt })))
          .returning({ id: authSessions.id })
      ).map((r) => r.id),
    );
  }
  const rows = students.flatMap((s, i) => coursesOf(i).map((c) => ({ studentId: s.id, courseId: courseRows[c]!.id })));
  for (let i = 0; i < rows.length; i += 1_000) await db.insert(enrollments).values(rows.slice(i, i + 1_000));
  await database.close();
  // Planner statistics for the freshly loaded tables, as autovacuum keeps them in production
  // (it would analyze them only after its next nap, in the middle of the run).
  const analyze = postgres(dbUrl(dbName), { max: 1, onnotice: () => {} });
  await analyze`analyze`;
  await analyze.end();

  const tokens = new TokenService({ secret, issuer: 'eduflow', audience: 'eduflow-api', accessTokenTtlSeconds: 3_600 });
  const tokenOf = new Map<string, string>();
  await Promise.all(
    everyone.map(async (u, i) => {
      const role = (u as { role: 'STUDENT' | 'ADMIN' | 'INSTRUCTOR' }).role;
      tokenOf.set(u.id, (await tokens.signAccessToken({ userId: u.id, role, sessionId: sessionIds[i]! })).token);
    }),
  );
  const gidOf = (c: number) => toGlobalId('Course', courseRows[c]!.id);
  const subscribers: Subscriber[] = [];
  const add = (userId: string, k: number, followed: number[], reader: (course: number) => string) => {
    const query = MIXED ? MIXED_QUERIES[k % MIXED_QUERIES.length]! : SUBSCRIPTION;
    const all = !MIXED ? false : k % 5 === 0;
    const one = followed[k % followed.length]!;
    subscribers.push({
      token: tokenOf.get(userId)!,
      query,
      courseId: all ? null : gidOf(one),
      hears: all ? followed : [one],
      readers: Array.from({ length: COURSES }, (_, c) => reader(c)),
    });
  };
  const studentIn = (c: number) => students[students.findIndex((_, i) => coursesOf(i).includes(c))]?.id ?? '';
  students.forEach((s, i) => add(s.id, i, coursesOf(i), studentIn));
  if (MIXED) {
    for (let k = 0; k < STAFF_SOCKETS; k++) add(owners[0]!.id, k, [0, 1], () => owners[0]!.id);
    for (let k = 0; k < STAFF_SOCKETS; k++) add(owners[1]!.id, k, [2], () => owners[1]!.id);
    admins.forEach((a, i) => [0, 1].forEach((j) => add(a.id, i * 2 + j, [0, 1, 2], () => admins[0]!.id)));
  }
  return {
    courseIds: courseRows.map((_, c) => gidOf(c)),
    /** Per round, the lesson started in each course. */
    lessonIds: Array.from({ length: ROUNDS }, (_, r) =>
      courseRows.map((_, c) => toGlobalId('Lesson', lessonRows[c]![r]!.id)),
    ),
    ownerTokens: courseRows.map((_, c) => tokenOf.get(owners[c < 2 ? 0 : 1]!.id)!),
    tokenOf,
    subscribers,
  };
}
type Seeded = Awaited<ReturnType<typeof seed>>;

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { errors?: unknown; data?: any };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body;
}

/** The payload `query` must carry for a lesson, from what `reader` reads of it over HTTP. */
function expectedPayload(query: string, lesson: any, event: { status: string; previousStatus: string }) {
  const fields = /lesson \{ ([^}]*) \}/.exec(query)![1]!.split(' ');
  const picked = Object.fromEntries(fields.map((f) => [f, lesson[f]]));
  const top = /lessonStatusChanged\(courseId: \$c\) \{ (.*?) lesson/.exec(query)![1]!.split(' ').filter(Boolean);
  return { top, lesson: picked, event };
}

/** Asks a process started with --heapsnapshot-signal for a snapshot and waits until it is written. */
async function heapSnapshot(pid: number, dir: string): Promise<void> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  for (;;) {
    await sleep(1_000);
    const added = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // Written when its size stops changing.
    if (
      added.length &&
      statSync(`${dir}/${added[0]}`).size === (await sleep(1_000), statSync(`${dir}/${added[0]}`).size)
    )
      return console.log(`heap snapshot: ${dir}/${added[0]}`);
  }
}

async function startEduFlow(data: Seeded) {
  const { child, match } = await startProcess(
    [
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...(HEAP_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : []),
      ...(RUNNER === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts']),
    ],
    {
      NODE_ENV: 'production',
      MAIL_TRANSPORT: 'log',
      DATABASE_URL: dbUrl(dbName),
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: secret,
      // The seeded tokens live an hour: the server refuses tokens living longer than its TTL.
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_POOL_MAX: '20',
      // Every benchmark socket comes from 127.0.0.1: lift the per-address caps; staff and
      // admins hold many sockets each.
      MAX_SOCKETS_PER_IP: '0',
      MAX_SUBSCRIPTIONS_PER_USER: '0',
      COST_BUDGET_PER_MINUTE: '0',
      // As deployed (docs/operations.md, topology): the API process runs no outbox relay or
      // notification jobs; workers are processes of their own. In-process, each round's
      // 10,000 "lesson started" notifications were still being processed during the next
      // round's delivery (rounds 2 and 3 ran 1.5-2x slower than round 1).
      NOTIFICATION_WORKER: 'off',
      METRICS_TOKEN,
    },
    /EduFlow GraphQL API: (http:\/\/\S+)/,
  );
  servers.add(child);
  const url = match[1]!;
  const wsUrl = url.replace(/^http/, 'ws');
  await gql(url, data.ownerTokens[0]!, '{ me { id } }', {});
  await sleep(1_000);
  const rssBefore = rssOf(child.pid!);
  const statementsBefore = await transactionsOf(dbName);
  const meter = cpuMeter(child.pid!);
  const started = performance.now();
  const subs = data.subscribers;
  const clients = await inBatches(subs.length, CONNECTING, (i) =>
    connectGraphQLWs(wsUrl, subs[i]!.token, subs[i]!.query, { c: subs[i]!.courseId }),
  );
  const connectSeconds = (performance.now() - started) / 1000;
  // graphql-ws acknowledges no subscription: the server's gauge says when every one is live
  // (authorized and listening), which is when "connected and subscribed" is true. Every 50 ms:
  // a scrape costs the server milliseconds with 10,000 sockets open (prom-client lists the
  // process's handles).
  for (const deadline = Date.now() + DELIVERY_TIMEOUT_MS; (await liveSubscriptions(url)) < subs.length; await sleep(50))
    if (Date.now() > deadline) throw new Error('not every subscription became live within a minute');
  const subscribedSeconds = (performance.now() - started) / 1000;
  const connectCpu: ConnectCpu = meter();
  const perSocket = socketTimings(clients);

  // graphql-ws does not acknowledge subscriptions: create lessons until every client has heard one.
  for (let i = 0; i < 50 && clients.some((c) => c.received.length === 0); i++) {
    await Promise.all(
      data.courseIds.map((c, k) =>
        gql(
          url,
          data.ownerTokens[k]!,
          `mutation($c: ID!) { createLesson(input: { courseId: $c, title: "warm-up" }) { id } }`,
          { c },
        ),
      ),
    );
    await sleep(500);
  }
  const liveSeconds = (performance.now() - started) / 1000;
  await settle(clients, 1_000);
  const rssAfter = rssOf(child.pid!);
  const statements = (await transactionsOf(dbName)) - statementsBefore;
  if (HEAP_DIR) await heapSnapshot(child.pid!, HEAP_DIR);
  const sample = JSON.stringify({ id: '1', type: 'next', payload: clients[0]!.received[0]?.data });
  let mismatches = 0;
  const mismatchSamples: unknown[] = [];

  const round = async (r: number): Promise<Round> => {
    for (const c of clients) c.received.length = 0;
    const lessonIds = data.lessonIds[r]!;
    const t0 = performance.now();
    await Promise.all(
      lessonIds.map((id, k) =>
        gql(url, data.ownerTokens[k]!, `mutation($id: ID!) { startLesson(id: $id) { status } }`, { id }),
      ),
    );
    const isRound: Match = (d) =>
      lessonIds.includes(d?.data?.lessonStatusChanged?.lesson?.id) && d.data.lessonStatusChanged.status !== 'SCHEDULED';
    const heard = (c: ProtocolClient) =>
      c.received.filter((m) => isRound(m.data) || m.data?.data?.lessonStatusChanged?.lesson?.id === undefined).length;
    await until(() => clients.every((c, i) => heard(c) >= subs[i]!.hears.length));
    const latencies = clients.flatMap((c) => c.received.filter((m) => isRound(m.data)).map((m) => m.at - t0));
    const expected = subs.reduce((n, s) => n + s.hears.length, 0);
    await settle(clients, 300);
    // Exactly the events it may see, each payload what its viewer reads over HTTP.
    const readings = new Map<string, any>();
    for (const s of subs) {
      for (const k of s.hears) {
        const key = `${s.readers[k]}|${k}`;
        if (!readings.has(key)) {
          const q = `query($id: ID!) { lesson(id: $id) { id title status startedAt content allowedTransitions } }`;
          readings.set(key, (await gql(url, data.tokenOf.get(s.readers[k]!)!, q, { id: lessonIds[k] })).data.lesson);
        }
      }
    }
    clients.forEach((c, i) => {
      const s = subs[i]!;
      const got = c.received.map((m) => m.data);
      const want = s.hears.map((k) =>
        expectedPayload(s.query, readings.get(`${s.readers[k]}|${k}`), {
          status: 'IN_PROGRESS',
          previousStatus: 'SCHEDULED',
        }),
      );
      const ok =
        got.length === want.length &&
        want.every((w) =>
          got.some((g) => {
            const e = g?.data?.lessonStatusChanged;
            if (!e || g.errors) return false;
            if (JSON.stringify(e.lesson) !== JSON.stringify(w.lesson)) return false;
            return w.top.every((f) =>
              f === 'status'
                ? e.status === 'IN_PROGRESS'
                : f === 'previousStatus'
                  ? e.previousStatus === 'SCHEDULED'
                  : typeof e[f] === 'string',
            );
          }),
        );
      if (!ok) {
        mismatches++;
        if (mismatchSamples.length < 3)
          mismatchSamples.push({ subscriber: { query: s.query, courseId: s.courseId, hears: s.hears }, got, want });
      }
    });
    return { delivered: latencies.length, expected, latencyMs: summarize(latencies) };
  };
  const stop = async () => {
    for (const c of clients) c.socket.terminate();
    await stopProcess(child);
  };
  return {
    round,
    stop,
    sample,
    connectSeconds,
    subscribedSeconds,
    connectCpu,
    perSocket,
    statements,
    liveSeconds,
    rssBefore,
    rssAfter,
    mismatches: () => mismatches,
    mismatchSamples,
  };
}

async function startBare(sample: string) {
  const { child, match } = await startProcess(['--import', 'tsx', 'bench/bare-ws-server.ts'], {}, /BARE_WS_PORT=(\d+)/);
  servers.add(child);
  const port = match[1]!;
  await sleep(500);
  const rssBefore = rssOf(child.pid!);
  const meter = cpuMeter(child.pid!);
  const started = performance.now();
  const clients = await inBatches(N, CONNECTING, () => connectBare(`ws://127.0.0.1:${port}`));
  const connectSeconds = (performance.now() - started) / 1000;
  const connectCpu: ConnectCpu = meter();
  const perSocket = socketTimings(clients);
  await sleep(1_000);
  const rssAfter = rssOf(child.pid!);
  const round = async (): Promise<Round> => {
    for (const c of clients) c.received.length = 0;
    const t0 = performance.now();
    for (let k = 0; k < COURSES; k++)
      await fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST', body: sample });
    await until(() => clients.every((c) => c.received.length >= COURSES));
    const latencies = clients.flatMap((c) => c.received.map((m) => m.at - t0));
    await sleep(300);
    return { delivered: latencies.length, expected: N * COURSES, latencyMs: summarize(latencies) };
  };
  const stop = async () => {
    for (const c of clients) c.socket.terminate();
    await stopProcess(child);
  };
  return { round, stop, connectSeconds, connectCpu, perSocket, rssBefore, rssAfter };
}

/** Servers this run started: stopped at the end whatever happened (a failed run leaves none behind). */
const servers = new Set<ChildProcess>();
const cleanup = async () => {
  for (const child of servers) await stopProcess(child);
  await dropBenchData(PG_ADMIN, dbName, REDIS_URL, redisPrefix);
};

const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
const worst = (rounds: Round[], key: 'p50' | 'p95' | 'p99' | 'max') => Math.max(...rounds.map((r) => r.latencyMs[key]));

async function main() {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `subscriptions benchmark${MIXED ? ' (mixed audiences)' : ''}: ${N} subscribers, ${ROUNDS} rounds (node ${process.version}, ${cpus().length} CPUs, load ${load()})`,
  );
  try {
    const data = await seed();
    // One server at a time: 2 × 10,000 client sockets would pass this process's file limit.
    const eduflow = await startEduFlow(data);
    const eduflowRounds: Round[] = [];
    const loads: string[] = [load()];
    try {
      for (let r = 0; r < ROUNDS; r++) {
        eduflowRounds.push(await eduflow.round(r));
        loads.push(load());
      }
    } finally {
      await eduflow.stop();
    }
    const bare = await startBare(eduflow.sample);
    const bareRounds: Round[] = [];
    try {
      for (let r = 0; r < ROUNDS; r++) {
        bareRounds.push(await bare.round());
        loads.push(load());
      }
    } finally {
      await bare.stop();
    }
    const perConnection = (x: { rssBefore: number; rssAfter: number }) => (x.rssAfter - x.rssBefore) / N;
    const rows = [
      ['', 'EduFlow (graphql-ws + Redis)', 'bare ws broadcast', 'ratio'],
      [
        'delivered (min of rounds)',
        `${Math.min(...eduflowRounds.map((r) => r.delivered))} / ${eduflowRounds[0]!.expected}`,
        `${Math.min(...bareRounds.map((r) => r.delivered))} / ${bareRounds[0]!.expected}`,
        '',
      ],
      ...(['p50', 'p95', 'p99', 'max'] as const).map((k) => [
        `latency ${k} (worst round, ms)`,
        String(worst(eduflowRounds, k)),
        String(worst(bareRounds, k)),
        `${(worst(eduflowRounds, k) / worst(bareRounds, k)).toFixed(1)}x`,
      ]),
      [
        'server RSS per connection (KiB)',
        String(kb(perConnection(eduflow))),
        String(kb(perConnection(bare))),
        `${(perConnection(eduflow) / perConnection(bare)).toFixed(1)}x`,
      ],
      [
        'server RSS with all connected (MiB)',
        String(Math.round(eduflow.rssAfter / 1048576)),
        String(Math.round(bare.rssAfter / 1048576)),
        '',
      ],
      [
        'connected and subscribed: every subscription live on the server (s)',
        eduflow.subscribedSeconds.toFixed(1),
        `${bare.connectSeconds.toFixed(1)} (connected)`,
        '',
      ],
      ['of which: every socket acknowledged, its subscribe sent (s)', eduflow.connectSeconds.toFixed(1), '', ''],
      [
        `per socket: upgrade p50 / p99 (ms), ${CONNECTING} connecting at once`,
        ...[eduflow, bare].map((x) => `${x.perSocket.upgrade.p50} / ${x.perSocket.upgrade.p99}`),
        '',
      ],
      [
        'per socket: connection_init to ack p50 / p99 (ms)',
        `${eduflow.perSocket.ack.p50} / ${eduflow.perSocket.ack.p99}`,
        '',
        '',
      ],
      ...(
        [
          ['server', 'serverSeconds'],
          ['client (this process)', 'clientSeconds'],
          ["Postgres (this run's database) and Redis", 'storesSeconds'],
          ['machine, busy of total', 'machineBusySeconds'],
        ] as const
      ).map(([who, key]) => [
        `CPU while connecting: ${who} (s)`,
        ...[eduflow.connectCpu, bare.connectCpu].map(
          (c) => `${c[key]}${key === 'machineBusySeconds' ? ` of ${c.machineSeconds}` : ''}`,
        ),
        '',
      ]),
      ['until every subscriber heard an event (s)', eduflow.liveSeconds.toFixed(1), '', ''],
      [
        'Postgres transactions from connecting until live (incl. the warm-up events)',
        String(eduflow.statements),
        '',
        '',
      ],
      ['payload mismatches (all rounds)', String(eduflow.mismatches()), '', ''],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n');
    console.log(`\n${table}\n`);
    const perRound = (rs: Round[]) =>
      rs
        .map(
          (r) =>
            `${r.delivered}/${r.expected}, p50 ${r.latencyMs.p50} / p99 ${r.latencyMs.p99} / max ${r.latencyMs.max} ms`,
        )
        .join('; ');
    console.log('per round (EduFlow):', perRound(eduflowRounds));
    console.log('per round (bare ws):', perRound(bareRounds));
    console.log(
      "load average (1/5/15 min) at start and after each round (EduFlow's, then bare ws'):",
      loads.join(' | '),
    );
    if (eduflow.mismatchSamples.length)
      console.log('mismatches (samples):', JSON.stringify(eduflow.mismatchSamples, null, 1));

    // BENCH_TAG=<name>: results under their own name (…-<name>.md), keeping earlier runs' files.
    const tag = process.env.BENCH_TAG?.replace(/[^\w.-]/g, '');
    const name = `subscriptions-${N}${MIXED ? '-mixed' : ''}${tag ? `-${tag}` : ''}`;
    const result = {
      date: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
      },
      mode: MIXED ? 'mixed' : 'one course',
      runner: RUNNER,
      connecting: CONNECTING,
      subscribers: N,
      rounds: ROUNDS,
      loadAverages: loads,
      eduflow: {
        connectSeconds: eduflow.connectSeconds,
        subscribedSeconds: eduflow.subscribedSeconds,
        connectCpu: eduflow.connectCpu,
        perSocketMs: eduflow.perSocket,
        postgresTransactions: eduflow.statements,
        liveSeconds: eduflow.liveSeconds,
        rssBefore: eduflow.rssBefore,
        rssAfter: eduflow.rssAfter,
        rssPerConnection: perConnection(eduflow),
        rounds: eduflowRounds,
        mismatches: eduflow.mismatches(),
      },
      bare: {
        connectSeconds: bare.connectSeconds,
        connectCpu: bare.connectCpu,
        perSocketMs: bare.perSocket,
        rssBefore: bare.rssBefore,
        rssAfter: bare.rssAfter,
        rssPerConnection: perConnection(bare),
        rounds: bareRounds,
      },
    };
    writeFileSync(`bench/results/${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(
      `bench/results/${name}.md`,
      `# Subscriptions benchmark${MIXED ? ' (mixed audiences)' : ''}\n\n${result.date}, ${N} subscribers (${CONNECTING} connecting at once), ${ROUNDS} EduFlow rounds then as many bare ws rounds, API process ${RUNNER === 'dist' ? 'the compiled build (dist/main.js)' : 'from the sources (tsx)'}, Node ${process.version}, ${cpus().length} CPUs (${result.machine.cpuModel}); ` +
        `load average (1/5/15 min) at start and after each round (EduFlow's, then bare ws'): ${loads.join(' | ')}.\n` +
        `Produced by \`npm run bench:subscriptions -- ${N}${MIXED ? ' --mixed' : ''}\`; raw numbers in ${name}.json.\n\n` +
        `| ${rows[0]!.join(' | ')} |\n|${rows[0]!.map(() => '---').join('|')}|\n${rows
          .slice(1)
          .map((r) => `| ${r.join(' | ')} |`)
          .join('\n')}\n`,
    );
    if (eduflowRounds.some((r) => r.delivered !== r.expected) || eduflow.mismatches() > 0) {
      console.error('FAIL: not every subscriber received exactly the events and payloads it may see');
      process.exitCode = 1;
    }
    console.log(`\nresults written to bench/results/${name}.json and .md`);
  } finally {
    await cleanup();
  }
}

await main();
