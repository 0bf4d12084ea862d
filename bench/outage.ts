/**
 * What clients see while Postgres is down, and how fast the API recovers.
 *
 * The API (src/main.ts of BENCH_ROOT, default this tree, so an older build can be measured
 * the same way) runs over a Postgres of its own. Eight clients loop over a cached catalog read,
 * a read that always misses the cache, and createLesson with a unique title. After a warm-up
 * Postgres is stopped (`--freeze`: SIGSTOPped) for OUTAGE_S seconds, then started again.
 *
 * Reported: latency (p50/p99) and statuses of the requests started during the outage, per
 * kind; the recovery time (from Postgres accepting connections to the first successful
 * request that needs it); and how many createLessons answered 503 with a "not committed"
 * reason (TIMEOUT, DATABASE_UNAVAILABLE) committed all the same.
 *
 *   npm run bench:outage [-- --freeze] [-- --label before]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { hashPassword } from '../src/auth/passwords.js';
import { startPrivatePostgres } from '../test/helpers/private-postgres.js';
import { sleep, summarize } from './lib.js';

const args = process.argv.slice(2);
const freeze = args.includes('--freeze');
const label = args.includes('--label') ? args[args.indexOf('--label') + 1]! : freeze ? 'freeze' : 'stop';
const root = process.env.BENCH_ROOT ?? process.cwd();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLIENTS = 8;
const WARM_S = 5;
const OUTAGE_S = Number(process.env.OUTAGE_S ?? 10);
const AFTER_S = 8;

type Kind = 'cached read' | 'uncached read' | 'createLesson';
interface Sample {
  kind: Kind;
  started: number;
  ms: number;
  status: number;
  reason?: string;
  title?: string;
}

async function main() {
  const pg = await startPrivatePostgres();
  const prefix = `eduflow:bench:outage:${Date.now().toString(36)}:`;
  const api = await startApi(pg.url, prefix);
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
        samples.push({ kind, started, ms: performance.now() - started, status: r.status, reason: r.reason, title });
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
    const firstOk = samples
      .filter((s) => needsDb(s) && s.status === 200 && s.started + s.ms >= upAt)
      .sort((a, b) => a.started + a.ms - (b.started + b.ms))[0];
    const recoveryMs = firstOk ? Math.round(firstOk.started + firstOk.ms - upAt) : null;

    // Lessons answered 503 "not committed" (or any reason but OUTCOME_UNKNOWN) that exist anyway.
    const refused = samples.filter(
      (s) => s.kind === 'createLesson' && s.status === 503 && s.reason !== 'OUTCOME_UNKNOWN' && s.title,
    );
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const committed = refused.length
      ? await sql<{ title: string }[]>`select title from lessons where title = any(${refused.map((s) => s.title!)})`
      : [];
    await sql.end();

    const result = {
      label,
      mode: freeze ? 'Postgres frozen (SIGSTOP)' : 'Postgres stopped (immediate)',
      root,
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
      recoveryMs,
      refused503: refused.length,
      committedAfter503: committed.length,
      outcomeUnknown: samples.filter((s) => s.reason === 'OUTCOME_UNKNOWN').length,
      ranAt: new Date().toISOString(),
    };
    console.log(JSON.stringify(result, null, 2));
    writeFileSync(`bench/results/outage-${label}.json`, JSON.stringify(result, null, 2) + '\n');
    writeFileSync(`bench/results/outage-${label}.md`, markdown(result));
  } finally {
    api.stop();
    await pg.destroy();
    const redis = new Redis(redisUrl);
    for await (const keys of redis.scanStream({ match: `${prefix}*` }) as AsyncIterable<string[]>)
      if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

function markdown(r: {
  label: string;
  mode: string;
  duringOutage: Record<string, { requests: number; p50: number; p99: number; statuses?: Record<string, number> }>;
  recoveryMs: number | null;
  refused503: number;
  committedAfter503: number;
  outcomeUnknown: number;
  ranAt: string;
}): string {
  const rows = Object.entries(r.duringOutage)
    .map(
      ([kind, x]) =>
        `| ${kind} | ${x.requests} | ${x.p50} | ${x.p99} | ${
          x.statuses
            ? Object.entries(x.statuses)
                .map(([k, n]) => `${k}: ${n}`)
                .join(', ')
            : ''
        } |`,
    )
    .join('\n');
  return `# Outage benchmark (${r.label}): ${r.mode}

\`npm run bench:outage\`, ${r.ranAt}. Requests started while Postgres was down (ms):

| kind | requests | p50 | p99 | answers |
|---|---|---|---|---|
${rows}

- Recovery (Postgres accepting connections → first successful request that needs it): ${r.recoveryMs ?? 'none'} ms
- createLesson answered 503 "not committed": ${r.refused503}; committed all the same: **${r.committedAfter503}**
- OUTCOME_UNKNOWN answers: ${r.outcomeUnknown}
`;
}

function client(url: string) {
  return async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(30_000),
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json().catch(() => ({}))) as { errors?: Array<{ extensions?: { reason?: string } }> };
    return { status: res.status, body, reason: body.errors?.[0]?.extensions?.reason };
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

function startApi(databaseUrl: string, prefix: string): Promise<{ url: string; stop(): void }> {
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
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: 'outage-bench-secret-outage-bench-secret',
      SEED_DEMO_DATA: 'true',
      NOTIFICATION_WORKER: 'off',
      COST_BUDGET_PER_MINUTE: '100000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /EduFlow GraphQL API: (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, stop: () => void child.kill('SIGTERM') });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      console.error(`API exited with ${code}:\n${out.slice(-4000)}`);
      reject(new Error(`API exited with ${code}`));
    });
  });
}

await main();
