/**
 * npm run bench:cache            (DURATION=10 CONNECTIONS=20 also work)
 *
 * The anonymous catalog query (courses with instructor and lessons) against a real API
 * process on a seeded database (the demo catalog) and the local Redis, driven by autocannon
 * for a fixed duration: once with the response cache on, once with it off (CACHE_ENABLED=false),
 * in the same run. Prints requests/s and p50/p99 latency of both and their ratio, and writes
 * bench/results/cache.json and .md.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { seedDemoData } from '../src/seed/demo-data.js';
import { benchRun, createBenchDatabase, dropBenchData, machineInfo, sleep, startProcess, stopProcess } from './lib.js';

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const run = benchRun(PG_ADMIN);
const { dbName, dbUrl, redisPrefix, secret } = run;

const CATALOG_QUERY = `query Catalog {
  courses(first: 10, orderBy: { field: TITLE, direction: ASC }) {
    totalCount
    edges { node { id title priceCents instructor { displayName } lessonCount
      lessons(first: 10) { edges { node { id title status scheduledAt } } } } }
  }
}`;

interface Run {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

async function seed() {
  const database = await createBenchDatabase(PG_ADMIN, run);
  const added = await seedDemoData(database.db);
  await database.close();
  return added;
}

async function measure(cacheEnabled: boolean): Promise<Run> {
  const { child, match } = await startProcess(
    ['--import', 'tsx', 'src/main.ts'],
    {
      NODE_ENV: 'production',
      MAIL_TRANSPORT: 'log',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: `${redisPrefix}${cacheEnabled ? 'on' : 'off'}:`,
      JWT_SECRET: secret,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_MIGRATE_ON_START: 'false',
      NOTIFICATION_WORKER: 'off',
      CACHE_ENABLED: String(cacheEnabled),
      // All load comes from one address here; the per-caller cost budget would throttle it.
      COST_BUDGET_PER_MINUTE: '0',
    },
    /EduFlow GraphQL API: (http:\/\/\S+)/,
  );
  try {
    const url = match[1]!;
    const body = JSON.stringify({ query: CATALOG_QUERY, operationName: 'Catalog' });
    const options = {
      url,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body,
      connections: CONNECTIONS,
    };
    // Check the answer once, then warm up (JIT, pools, the cache entry) before measuring.
    const check = await fetch(url, { method: 'POST', headers: options.headers, body });
    const json = (await check.json()) as { data?: { courses?: { totalCount: number } }; errors?: unknown };
    if (!json.data?.courses?.totalCount || json.errors)
      throw new Error(`catalog query failed: ${JSON.stringify(json)}`);
    await autocannon({ ...options, duration: 2 });
    await sleep(500);
    const result = await autocannon({ ...options, duration: DURATION });
    return {
      requestsPerSecond: Math.round(result.requests.average),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      requests: result.requests.total,
      errors: result.errors,
      non2xx: result.non2xx,
    };
  } finally {
    await stopProcess(child);
  }
}

async function main() {
  console.log(
    `cache benchmark: anonymous catalog query, ${CONNECTIONS} connections, ${DURATION} s per run (node ${process.version}, ${cpus().length} CPUs)`,
  );
  try {
    const seeded = await seed();
    const uncached = await measure(false);
    const cached = await measure(true);
    const ratio = cached.requestsPerSecond / uncached.requestsPerSecond;
    const rows = [
      ['', 'cache off', 'cache on', 'ratio'],
      ['requests/s', String(uncached.requestsPerSecond), String(cached.requestsPerSecond), `${ratio.toFixed(1)}x`],
      ['latency p50 (ms)', String(uncached.latencyP50Ms), String(cached.latencyP50Ms), ''],
      ['latency p99 (ms)', String(uncached.latencyP99Ms), String(cached.latencyP99Ms), ''],
      [
        'requests / errors / non-2xx',
        `${uncached.requests} / ${uncached.errors} / ${uncached.non2xx}`,
        `${cached.requests} / ${cached.errors} / ${cached.non2xx}`,
        '',
      ],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    console.log(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n')}\n`);
    const result = {
      date: new Date().toISOString(),
      machine: {
        ...machineInfo(),
      },
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      seeded,
      query: CATALOG_QUERY,
      uncached,
      cached,
      ratio: Number(ratio.toFixed(2)),
    };
    writeFileSync('bench/results/cache.json', `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(
      'bench/results/cache.md',
      `# Response cache benchmark\n\n${result.date}, anonymous catalog query (10 courses × instructor × 10 lessons), autocannon ${CONNECTIONS} connections × ${DURATION} s, ` +
        `one API process (NODE_ENV=production) on the local Postgres and Redis, Node ${process.version}, ${cpus().length} CPUs (${result.machine.cpuModel}); ` +
        `autocannon shares the machine. Produced by \`npm run bench:cache\`; raw numbers in cache.json.\n\n` +
        `| ${rows[0]!.join(' | ')} |\n|${rows[0]!.map(() => '---').join('|')}|\n${rows
          .slice(1)
          .map((r) => `| ${r.join(' | ')} |`)
          .join('\n')}\n`,
    );
    if (uncached.errors || cached.errors || uncached.non2xx || cached.non2xx) process.exitCode = 1;
  } finally {
    await dropBenchData(PG_ADMIN, dbName, REDIS_URL, redisPrefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
