/**
 * npm run bench:http        (DURATION=10 CONNECTIONS=50 LOW_CONNECTIONS=10 ROUNDS=2 RUNNER=dist|tsx also work)
 *
 * The HTTP hot path, EduFlow alone against a bare node:http server replaying EduFlow's exact
 * response bytes (the physical limit of this machine), in one run, A B A B:
 *   P1  the anonymous catalog query (published courses × instructor × 10 lessons), uncached
 *       (CACHE_ENABLED=false); also at LOW_CONNECTIONS, where a page's latency (its statements
 *       one after another) shows rather than the throughput of many in parallel
 *   P2  the same query with the response cache warm (every answer checked to be a HIT)
 *   P3  `{ __typename }`
 * EduFlow runs as in production (NODE_ENV=production, LOG_LEVEL=warn, no cost budget: all
 * load comes from one address) on a database made by its own migrations and demo seed, and
 * the local Redis. The compiled build (`npm run build`, RUNNER=dist) is what the README's
 * numbers use. Bytes per response count everything on the wire (status line, headers, body).
 * Writes bench/results/http.json and http.md, with the load average at start:
 * the machine may be shared, so only the ratios within one run mean much.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { seedDemoData } from '../src/seed/demo-data.js';
import { benchRun, createBenchDatabase, dropBenchData, sleep, startProcess, stopProcess } from './lib.js';

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const LOW_CONNECTIONS = Number(process.env.LOW_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const RUNNER = process.env.RUNNER ?? 'dist';
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const run = benchRun(PG_ADMIN);
const { dbName, dbUrl, redisPrefix, secret } = run;

/** The shared harness's query (../shared/peers/queries/eduflow.graphql). */
const CATALOG =
  '{ courses(first: 20) { edges { node { title instructor { displayName } lessons(first: 10) { edges { node { title status } } } } } } }';
const TYPENAME = '{ __typename }';
const METRICS_TOKEN = 'bench-metrics-token-0123456789';

/** The response cache's outcomes since the process started, from its /metrics. */
async function cacheOutcomes(url: string): Promise<Record<string, number>> {
  const res = await fetch(url.replace(/\/graphql$/, '/metrics'), {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const text = await res.text();
  const outcomes: Record<string, number> = {};
  for (const m of text.matchAll(/^eduflow_response_cache_events\{outcome="(\w+)"\} (\d+)/gm))
    outcomes[m[1]!] = Number(m[2]);
  return outcomes;
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Bytes received per response: status line, headers and body. */
  bytesPerResponse: number;
  load1: number;
}

async function startEduFlow(cacheEnabled: boolean) {
  const args = RUNNER === 'dist' ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const { child, match } = await startProcess(
    args,
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
      COST_BUDGET_PER_MINUTE: '0',
      METRICS_TOKEN: METRICS_TOKEN,
    },
    /EduFlow GraphQL API: (http:\/\/\S+)/,
  );
  return { child, url: match[1]! };
}

/** EduFlow's answer to `query`, checked, saved for the bare replay. */
async function answer(url: string, query: string, expectCache?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"')) throw new Error(`${query}: ${res.status} ${text.slice(0, 300)}`);
  if (expectCache && res.headers.get('x-cache') !== expectCache)
    throw new Error(`${query}: x-cache ${res.headers.get('x-cache')}, expected ${expectCache}`);
  return { text, contentType: res.headers.get('content-type') ?? 'application/json' };
}

async function startBare(name: string, body: string, contentType: string) {
  const file = join(tmpdir(), `${run.dbName}-${name}.json`);
  writeFileSync(file, body);
  const { child, match } = await startProcess(
    ['--import', 'tsx', 'bench/bare-http-server.ts'],
    { BARE_BODY_FILE: file, BARE_CONTENT_TYPE: contentType },
    /BARE_HTTP_PORT=(\d+)/,
  );
  return { child, url: `http://127.0.0.1:${match[1]}/graphql` };
}

async function load(url: string, query: string, seconds: number, connections = CONNECTIONS): Promise<Measured> {
  const load1 = loadavg()[0]!;
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
    connections,
    duration: seconds,
  });
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    bytesPerResponse: r.requests.total ? Math.round(r.throughput.total / r.requests.total) : 0,
    load1: Math.round(load1 * 100) / 100,
  };
}

const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);

async function workload(
  name: string,
  target: { url: string; query: string },
  bare: { url: string },
  connections = CONNECTIONS,
) {
  await load(target.url, target.query, 3, connections); // warm-up (JIT, pools)
  await load(bare.url, target.query, 1, connections);
  const eduflow: Measured[] = [];
  const replay: Measured[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    eduflow.push(await load(target.url, target.query, DURATION, connections));
    await sleep(300);
    replay.push(await load(bare.url, target.query, DURATION, connections));
    await sleep(300);
  }
  const summary = {
    name,
    connections,
    eduflow: {
      rps: mean(eduflow.map((m) => m.rps)),
      p50: mean(eduflow.map((m) => m.p50)),
      p99: mean(eduflow.map((m) => m.p99)),
      bytesPerResponse: mean(eduflow.map((m) => m.bytesPerResponse)),
      runs: eduflow,
    },
    bare: {
      rps: mean(replay.map((m) => m.rps)),
      p50: mean(replay.map((m) => m.p50)),
      p99: mean(replay.map((m) => m.p99)),
      bytesPerResponse: mean(replay.map((m) => m.bytesPerResponse)),
      runs: replay,
    },
  };
  console.log(
    `${name}: EduFlow ${summary.eduflow.rps} rps (p99 ${summary.eduflow.p99} ms), bare replay ${summary.bare.rps} rps; load1 ${eduflow.map((m) => m.load1).join(', ')}`,
  );
  return summary;
}

async function main() {
  const startLoad = loadavg().map((l) => Math.round(l * 100) / 100);
  console.log(
    `http benchmark: ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s, runner ${RUNNER}, node ${process.version}, ${cpus().length} CPUs, load ${startLoad.join(' ')}`,
  );
  const children = [];
  try {
    const database = await createBenchDatabase(PG_ADMIN, run);
    await seedDemoData(database.db);
    await database.close();
    const results = [];

    const uncached = await startEduFlow(false);
    children.push(uncached.child);
    const p1 = await answer(uncached.url, CATALOG);
    const p1Bare = await startBare('p1', p1.text, p1.contentType);
    children.push(p1Bare.child);
    results.push(await workload('P1 catalog, uncached', { url: uncached.url, query: CATALOG }, p1Bare));
    results.push(
      await workload(
        `P1 catalog, uncached, ${LOW_CONNECTIONS} connections`,
        { url: uncached.url, query: CATALOG },
        p1Bare,
        LOW_CONNECTIONS,
      ),
    );
    await stopProcess(uncached.child);
    await stopProcess(p1Bare.child);

    const cached = await startEduFlow(true);
    children.push(cached.child);
    await answer(cached.url, CATALOG, 'MISS');
    const p2 = await answer(cached.url, CATALOG, 'HIT');
    const p2Bare = await startBare('p2', p2.text, p2.contentType);
    children.push(p2Bare.child);
    results.push(await workload('P2 catalog, cache warm', { url: cached.url, query: CATALOG }, p2Bare));
    await answer(cached.url, CATALOG, 'HIT');
    // Every P2 request must have been a hit (zero bypasses while Redis is healthy).
    const p2Cache = await cacheOutcomes(cached.url);
    console.log(`P2 cache outcomes: ${JSON.stringify(p2Cache)}`);
    await stopProcess(p2Bare.child);

    const p3 = await answer(cached.url, TYPENAME);
    const p3Bare = await startBare('p3', p3.text, p3.contentType);
    children.push(p3Bare.child);
    results.push(await workload('P3 { __typename }', { url: cached.url, query: TYPENAME }, p3Bare));

    const date = new Date().toISOString();
    const result = {
      date,
      runner: RUNNER,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadAtStart: startLoad,
      connections: CONNECTIONS,
      durationSeconds: DURATION,
      rounds: ROUNDS,
      p2CacheOutcomes: p2Cache,
      results,
    };
    writeFileSync('bench/results/http.json', `${JSON.stringify(result, null, 2)}\n`);
    const p1Rps = results[0]!.eduflow.rps;
    const rows = results.map(
      (r) =>
        `| ${r.name} | ${r.connections} | ${r.eduflow.rps} | ${r.eduflow.p50} | ${r.eduflow.p99} | ${r.eduflow.bytesPerResponse} | ${r.bare.rps} | ${r.bare.bytesPerResponse} | ${(r.eduflow.rps / r.bare.rps).toFixed(3)}× | ${(r.eduflow.rps / p1Rps).toFixed(1)}× |`,
    );
    writeFileSync(
      'bench/results/http.md',
      `# HTTP hot path benchmark\n\n${date}, \`npm run bench:http\` (runner ${RUNNER}), autocannon ${CONNECTIONS} connections (P1 also ${LOW_CONNECTIONS}), ${ROUNDS} rounds × ${DURATION} s, ` +
        `Node ${process.version}, ${cpus().length} CPUs (${result.cpuModel}), 1/5/15-min load at start ${startLoad.join(' / ')} (a shared machine: compare ratios within the run). ` +
        `EduFlow as in production on the demo seed; the bare server replays EduFlow's exact response bytes. Raw numbers in http.json.\n\n` +
        `Response cache outcomes of the P2 process since it started (warm-up and rounds; early_hit: answered before Apollo): ${JSON.stringify(p2Cache)}.\n\n` +
        `| workload | connections | EduFlow rps | p50 ms | p99 ms | bytes per response | bare replay rps | bare bytes per response | EduFlow / bare | EduFlow / its P1 (50 conn.) |\n|---|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
    );
    console.log(`written bench/results/http.json and http.md`);
    if (results.some((r) => r.eduflow.runs.some((m) => m.errors || m.non2xx))) process.exitCode = 1;
  } finally {
    for (const c of children) await stopProcess(c);
    await dropBenchData(PG_ADMIN, dbName, REDIS_URL, redisPrefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
