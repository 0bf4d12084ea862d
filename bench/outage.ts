/**
 * What clients see while Postgres is down, and how fast the system heals after Redis loses its data.
 *
 * Private servers only (a Postgres and a Redis of its own, on free ports). The API (src/main.ts
 * of BENCH_ROOT, default this tree, so an older build can be measured the same way) runs over them.
 *
 * 1. Postgres outage. Eight clients loop over a cached catalog read, a read that always misses the
 *    cache, and createLesson with a unique title. After a warm-up Postgres is stopped (`--freeze`:
 *    SIGSTOPped) for OUTAGE_S seconds, then started again. Reported: latency (p50/p99) and statuses
 *    of the requests started during the outage, per kind; answers HTTP 200 with `data: null` (must
 *    be 0); the time from Postgres accepting connections to the first successful uncached read;
 *    and how many createLessons answered 503 "not committed" committed all the same.
 * 2. Redis restarted empty mid fan-out. An API with its notification worker cancels a lesson of a
 *    course with 5,000 students; Redis is SIGKILLed once some notifications are written and started
 *    again empty. Reported: notifications written at the loss, and the time from Redis accepting
 *    connections until all 5,000 exist (none twice).
 *
 * The machine's load average is recorded: these are latency-to-failure figures, less sensitive
 * to load than throughput, but not free of it.
 *
 *   npm run bench:outage [-- --freeze] [-- --label before]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import postgres from 'postgres';
import { hashPassword } from '../src/auth/passwords.js';
import { startPrivatePostgres } from '../test/helpers/private-postgres.js';
import { startPrivateRedis } from '../test/helpers/services.js';
import { sleep, summarize } from './lib.js';

const args = process.argv.slice(2);
const freeze = args.includes('--freeze');
const label = args.includes('--label') ? args[args.indexOf('--label') + 1]! : freeze ? 'freeze' : 'stop';
const root = process.env.BENCH_ROOT ?? process.cwd();
const CLIENTS = 8;
const WARM_S = 5;
const OUTAGE_S = Number(process.env.OUTAGE_S ?? 10);
const AFTER_S = 8;
const STUDENTS = 5_000;

type Kind = 'cached read' | 'uncached read' | 'createLesson';
interface Sample {
  kind: Kind;
  started: number;
  ms: number;
  status: number;
  reason?: string;
  title?: string;
  /** Answered 200 with no data because of SERVICE_UNAVAILABLE: must never happen. */
  okWithoutData?: boolean;
}

async function main() {
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const postgresOutage = await measurePostgresOutage();
  const redisHealing = await measureRedisHealing();
  const result = {
    label,
    root,
    loadAverage: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
    postgresOutage,
    redisHealing,
    ranAt: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  const name = label === 'stop' ? 'outage' : `outage-${label}`;
  writeFileSync(`bench/results/${name}.json`, JSON.stringify(result, null, 2) + '\n');
  writeFileSync(`bench/results/${name}.md`, markdown(result));
}

async function measurePostgresOutage() {
  const pg = await startPrivatePostgres();
  const redis = await startPrivateRedis();
  const api = await startApi(pg.url, redis.url);
  try {
    const gql = client(api.url);
    const token = await signIn(pg.url, gql);
    const created = await gql(`mutation { createCourse(input: { title: "Outage bench" }) { id } }`, {}, token);
    const courseId = (created.body as { data: { createCourse: { id: string } } }).data.createCourse.id;

    const samples: Sample[] = [];
    let seq = 0;
    let running = true;
    const loop = async (c: number) => {
      for (let i = c; running; i++) {
        const kind: Kind = (['cached read', 'uncached read', 'createLesson'] as const)[i % 3]!;
        const n = seq++;
        const started = performance.now();
        let r: Awaited<ReturnType<typeof gql>>;
        let title: string | undefined;
        if (kind === 'cached read') r = await gql(`{ courses(first: 5) { totalCount edges { node { title } } } }`);
        else if (kind === 'uncached read')
          r = await gql(`query($s: String) { courses(first: 1, filter: { search: $s }) { totalCount } }`, {
            s: `miss${n}`,
          });
        else {
          title = `bench-${n}`;
          r = await gql(
            `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`,
            { c: courseId, t: title },
            token,
          );
        }
        samples.push({
          kind,
          started,
          ms: performance.now() - started,
          status: r.status,
          reason: r.reason,
          title,
          okWithoutData: r.status === 200 && r.unavailable && !r.hasData,
        });
        if (r.status !== 200) await sleep(20); // a client honouring failure a little, not a tight loop
      }
    };
    const loops = Array.from({ length: CLIENTS }, (_, c) => loop(c));

    await sleep(WARM_S * 1000);
    const downAt = performance.now();
    if (freeze) pg.freeze();
    else await pg.stopAsync();
    await sleep(OUTAGE_S * 1000);
    const upStarted = performance.now();
    if (freeze) pg.thaw();
    else await pg.startAsync();
    const upAt = performance.now(); // accepting connections
    await sleep(AFTER_S * 1000);
    running = false;
    await Promise.all(loops);

    const during = samples.filter((s) => s.started >= downAt && s.started < upStarted);
    const byKind = (kind: Kind) => {
      const xs = during.filter((s) => s.kind === kind);
      const statuses: Record<string, number> = {};
      for (const s of xs) {
        const key = `${s.status}${s.reason ? ` ${s.reason}` : ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      return { requests: xs.length, ...summarize(xs.map((s) => s.ms)), statuses };
    };
    const needsDb = (s: Sample) => s.kind !== 'cached read';
    const firstOkAfterUp = (kinds: (s: Sample) => boolean) => {
      const first = samples
        .filter((s) => kinds(s) && s.status === 200 && s.started + s.ms >= upAt)
        .sort((a, b) => a.started + a.ms - (b.started + b.ms))[0];
      return first ? Math.round(first.started + first.ms - upAt) : null;
    };

    // Lessons answered 503 "not committed" (or any reason but OUTCOME_UNKNOWN) that exist anyway.
    const refused = samples.filter(
      (s) => s.kind === 'createLesson' && s.status === 503 && s.reason !== 'OUTCOME_UNKNOWN' && s.title,
    );
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const committed = refused.length
      ? await sql<{ title: string }[]>`select title from lessons where title = any(${refused.map((s) => s.title!)})`
      : [];
    await sql.end();

    return {
      mode: freeze ? 'Postgres frozen (SIGSTOP)' : 'Postgres stopped (immediate)',
      clients: CLIENTS,
      outageSeconds: OUTAGE_S,
      duringOutage: {
        'needs the database': {
          requests: during.filter(needsDb).length,
          ...summarize(during.filter(needsDb).map((s) => s.ms)),
        },
        'cached read': byKind('cached read'),
        'uncached read': byKind('uncached read'),
        createLesson: byKind('createLesson'),
      },
      okWithoutDataDuringRun: samples.filter((s) => s.okWithoutData).length,
      firstReadAfterUpMs: firstOkAfterUp((s) => s.kind === 'uncached read'),
      firstMutationAfterUpMs: firstOkAfterUp((s) => s.kind === 'createLesson'),
      refused503: refused.length,
      committedAfter503: committed.length,
      outcomeUnknown: samples.filter((s) => s.reason === 'OUTCOME_UNKNOWN').length,
    };
  } finally {
    await api.stop();
    await pg.destroy();
    await Promise.race([redis.stop(), sleep(2_000)]);
  }
}

/** Redis SIGKILLed mid fan-out of a lesson cancellation to STUDENTS students, restarted empty. */
async function measureRedisHealing() {
  const pg = await startPrivatePostgres();
  const redis = await startPrivateRedis();
  // The sweep's own timings stay at their defaults (stale after a minute, every 30 s): healing must not wait for them.
  const api = await startApi(pg.url, redis.url, {
    NOTIFICATION_WORKER: 'on',
    NOTIFICATION_BATCH_SIZE: '100',
    WORKER_CONCURRENCY: '1',
    OUTBOX_POLL_MS: '200',
  });
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    const gql = client(api.url);
    const token = await signIn(pg.url, gql);
    const created = await gql(`mutation { createCourse(input: { title: "Healing bench" }) { id } }`, {}, token);
    const courseGid = (created.body as { data: { createCourse: { id: string } } }).data.createCourse.id;
    const [course] = await sql<{ id: string }[]>`select id from courses where title = 'Healing bench'`;
    await sql`update courses set status = 'PUBLISHED' where id = ${course!.id}`;
    await sql`
      with s as (
        insert into users (email, display_name, password_hash, role)
        select 'bulk-' || i || '@example.test', 'Student ' || i, 'x', 'STUDENT' from generate_series(1, ${STUDENTS}) as i
        returning id)
      insert into enrollments (student_id, course_id) select id, ${course!.id}::uuid from s`;
    const lesson = await gql(
      `mutation($c: ID!) { createLesson(input: { courseId: $c, title: "Cancelled mid fan-out" }) { id } }`,
      { c: courseGid },
      token,
    );
    const lessonId = (lesson.body as { data: { createLesson: { id: string } } }).data.createLesson.id;
    const tally = async () => {
      const [row] = await sql<{ total: number; max: number | null }[]>`
        select count(*)::int as total,
          (select max(c)::int from (select count(*) as c from notifications
             where kind = 'LESSON_CANCELLED' and course_id = ${course!.id} group by event_id, recipient_id) x) as max
        from notifications where kind = 'LESSON_CANCELLED' and course_id = ${course!.id}`;
      return { total: row!.total, maxPerRecipient: row!.max ?? 0 };
    };
    const cancelled = await gql(`mutation($id: ID!) { cancelLesson(id: $id) { id } }`, { id: lessonId }, token);
    if (cancelled.status !== 200) throw new Error(`cancelLesson answered ${cancelled.status}`);
    while ((await tally()).total === 0) await sleep(10);
    await redis.stop();
    const atLoss = (await tally()).total;
    await redis.start(); // resolves once it accepts connections
    const back = performance.now();
    let now = await tally();
    while (now.total < STUDENTS && performance.now() - back < 120_000) {
      await sleep(50);
      now = await tally();
    }
    return {
      students: STUDENTS,
      writtenAtLoss: atLoss,
      healedMs: now.total >= STUDENTS ? Math.round(performance.now() - back) : null,
      delivered: now.total,
      maxPerRecipient: now.maxPerRecipient,
    };
  } finally {
    await sql.end({ timeout: 1 });
    await api.stop();
    await pg.destroy();
    await Promise.race([redis.stop(), sleep(2_000)]);
  }
}

interface Result {
  label: string;
  loadAverage: { before: number[]; after: number[] };
  postgresOutage: Awaited<ReturnType<typeof measurePostgresOutage>>;
  redisHealing: Awaited<ReturnType<typeof measureRedisHealing>>;
  ranAt: string;
}

function markdown(r: Result): string {
  const pg = r.postgresOutage;
  const rows = Object.entries(pg.duringOutage)
    .map(([kind, x]) => {
      const statuses = 'statuses' in x ? x.statuses : undefined;
      const answers = statuses
        ? Object.entries(statuses)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', ')
        : '';
      return `| ${kind} | ${x.requests} | ${x.p50} | ${x.p99} | ${x.max} | ${answers} |`;
    })
    .join('\n');
  const h = r.redisHealing;
  return `# Outage benchmark (${r.label})

\`npm run bench:outage\`, ${r.ranAt}, private Postgres and Redis. Load average (1, 5, 15 min) before
${r.loadAverage.before.join(' / ')}, after ${r.loadAverage.after.join(' / ')}: the machine was shared,
so these are latency-to-failure figures under load, not a quiet-machine measurement.

## ${pg.mode} for ${pg.outageSeconds} s, ${pg.clients} clients

Requests started while Postgres was down (ms):

| kind | requests | p50 | p99 | max | answers |
|---|---|---|---|---|---|
${rows}

- HTTP 200 with \`data: null\` (SERVICE_UNAVAILABLE) during the run: **${pg.okWithoutDataDuringRun}**
- Postgres accepting connections → first successful uncached read: ${pg.firstReadAfterUpMs ?? 'none'} ms;
  first successful createLesson: ${pg.firstMutationAfterUpMs ?? 'none'} ms
- createLesson answered 503 "not committed": ${pg.refused503}; committed all the same: **${pg.committedAfter503}**
- OUTCOME_UNKNOWN answers: ${pg.outcomeUnknown}

## Redis SIGKILLed mid fan-out, restarted empty

- ${h.writtenAtLoss} of ${h.students} in-app notifications written at the loss
- all ${h.students} present ${h.healedMs ?? 'never (within 120 s)'} ms after Redis accepted connections
  (${h.delivered} delivered; at most ${h.maxPerRecipient} per recipient)
`;
}

function client(url: string) {
  return async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(30_000),
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json().catch(() => ({}))) as {
        data?: Record<string, unknown> | null;
        errors?: Array<{ extensions?: { code?: string; reason?: string } }>;
      };
      return {
        status: res.status,
        body,
        reason: body.errors?.[0]?.extensions?.reason,
        unavailable: body.errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE') ?? false,
        hasData: !!body.data && Object.values(body.data).some((v) => v !== null),
      };
    } catch {
      // No answer at all (the connection failed or 30 s passed): counted as status 0.
      return { status: 0, body: {}, reason: 'NO_ANSWER', unavailable: false, hasData: false };
    }
  };
}

async function signIn(pgUrl: string, gql: ReturnType<typeof client>): Promise<string> {
  const sql = postgres(pgUrl, { max: 1, onnotice: () => {} });
  await sql`insert into users (email, display_name, password_hash, role)
            values ('bench@example.test', 'Bench', ${await hashPassword('bench-password-1')}, 'INSTRUCTOR')`;
  await sql.end();
  const r = await gql(
    `mutation { login(input: { email: "bench@example.test", password: "bench-password-1" }) { accessToken } }`,
  );
  return (r.body as { data: { login: { accessToken: string } } }).data.login.accessToken;
}

function startApi(
  databaseUrl: string,
  redisUrl: string,
  extraEnv: Record<string, string> = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'error',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      JWT_SECRET: 'outage-bench-secret-outage-bench-secret',
      SEED_DEMO_DATA: 'true',
      NOTIFICATION_WORKER: 'off',
      COST_BUDGET_PER_MINUTE: '100000000',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /EduFlow GraphQL API: (http:\/\/\S+)/.exec(out);
      if (m)
        resolve({
          url: m[1]!,
          stop: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await Promise.race([exited, sleep(10_000)]);
          },
        });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => {
      if (signal === 'SIGTERM') return;
      console.error(`API exited with ${code}:\n${out.slice(-4000)}`);
      reject(new Error(`API exited with ${code}`));
    });
  });
}

await main();
// Pools and timers of the helpers would keep the process alive.
process.exit(0);
