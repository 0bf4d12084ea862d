/**
 * npm run bench:cpu       (REQUESTS=5000 CONNECTIONS=10 ROUNDS=3 WARMUP=3000 RUNNER=dist|tsx QUERY=... also work)
 *
 * CPU time of the API process per request, for the uncached anonymous catalog query (P1 of
 * bench/http.ts) by default. Unlike requests per second this barely moves when the machine is
 * shared: the process's user + system time (/proc/<pid>/stat) is read before and after each
 * round of REQUESTS requests at CONNECTIONS connections, after a warm-up (JIT compiled, pools
 * open). Prints CPU ms per request for each round and their median, and the answer's size and
 * SHA-256, so a change can show that the body stayed byte-identical. COMPARE=<path>/main.js
 * runs another build beside this one, rounds alternating (copy a build's dist/ to a folder
 * inside the checkout, so that it finds node_modules).
 *
 * Production settings (NODE_ENV=production, CACHE_ENABLED=false, no cost budget, no worker) on a
 * database made by the migrations and the demo seed, dropped at the end. BENCH_DATABASE_URL
 * (admin) and BENCH_REDIS_URL as for bench:http; SERVER_ENV="VAR=VALUE ..." overrides the server's settings,
 * BENCH_PROFILE=<dir> writes a CPU profile of each API process, BENCH_NODE_ARGS passes node flags.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { seedDemoData } from '../src/seed/demo-data.js';
import { benchRun, createBenchDatabase, dropBenchData, startProcess, stopProcess } from './lib.js';

const REQUESTS = Number(process.env.REQUESTS ?? 5000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WARMUP = Number(process.env.WARMUP ?? 3000);
const RUNNER = process.env.RUNNER ?? 'dist';
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const QUERY =
  process.env.QUERY ??
  '{ courses(first: 20) { edges { node { title instructor { displayName } lessons(first: 10) { edges { node { title status } } } } } } }';

/** User + system CPU time of a process so far, in milliseconds. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

async function send(url: string, amount: number) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY }),
    connections: CONNECTIONS,
    amount,
  });
  if (r.errors || r.non2xx) throw new Error(`${r.errors} errors, ${r.non2xx} non-2xx responses`);
  return r;
}

/** One EduFlow process on the run's database: `entry` is its node arguments. */
async function startServer(run: ReturnType<typeof benchRun>, entry: string[], name: string) {
  const { child, match } = await startProcess(
    [
      // BENCH_PROFILE=<dir>: a CPU profile of each API process (warm-up included), written at exit.
      ...(process.env.BENCH_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`, `--cpu-prof-name=${name}.cpuprofile`]
        : []),
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...entry,
    ],
    {
      NODE_ENV: 'production',
      MAIL_TRANSPORT: 'log',
      DATABASE_URL: run.dbUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: `${run.redisPrefix}${name}:`,
      JWT_SECRET: run.secret,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_MIGRATE_ON_START: 'false',
      NOTIFICATION_WORKER: 'off',
      CACHE_ENABLED: 'false',
      COST_BUDGET_PER_MINUTE: '0',
      ...Object.fromEntries(
        (process.env.SERVER_ENV ?? '')
          .split(/\s+/)
          .filter(Boolean)
          .map((kv) => kv.split('=', 2)),
      ),
    },
    /EduFlow GraphQL API: (http:\/\/\S+)/,
  );
  const url = match[1]!;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200 || body.includes('"errors"')) throw new Error(`${res.status} ${String(body).slice(0, 300)}`);
  const sha = createHash('sha256').update(body).digest('hex');
  console.log(`${name}: answer ${body.length} bytes, sha256 ${sha}`);
  return { name, child, url, perRequest: [] as number[] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const run = benchRun(PG_ADMIN);
  const servers: Array<Awaited<ReturnType<typeof startServer>>> = [];
  try {
    const database = await createBenchDatabase(PG_ADMIN, run);
    await seedDemoData(database.db);
    await database.close();
    servers.push(
      await startServer(run, RUNNER === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'], 'this'),
    );
    // COMPARE=<another build's main.js>: both run, their rounds alternate (A B A B), so a
    // busy machine weighs on both alike.
    if (process.env.COMPARE) servers.push(await startServer(run, [process.env.COMPARE], 'compare'));
    for (const s of servers) await send(s.url, WARMUP);
    for (let i = 0; i < ROUNDS; i++) {
      for (const s of servers) {
        const before = cpuMsOf(s.child.pid!);
        const r = await send(s.url, REQUESTS);
        const ms = (cpuMsOf(s.child.pid!) - before) / REQUESTS;
        s.perRequest.push(ms);
        console.log(
          `${s.name} round ${i + 1}: ${ms.toFixed(3)} CPU ms per request (${REQUESTS} requests, ${CONNECTIONS} connections, ${Math.round(r.requests.average)} rps)`,
        );
      }
    }
    for (const s of servers) console.log(`${s.name} median: ${median(s.perRequest).toFixed(3)} CPU ms per request`);
  } finally {
    for (const s of servers) await stopProcess(s.child);
    await dropBenchData(PG_ADMIN, run.dbName, REDIS_URL, run.redisPrefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
