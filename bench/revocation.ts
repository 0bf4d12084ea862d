/**
 * npm run bench:revocation       (ROUNDS=6 DURATION=5 CONNECTIONS=20 also work)
 *
 * What the per-request revocation check costs:
 *  1. over HTTP: a signed-in `{ __typename }` against two real API processes started side by
 *     side on the same database and Redis, one with the check (the default) and one with
 *     REVOCATION_CHECK=false. Rounds alternate (off/on, then on/off ...) so drift in the
 *     machine's load hits both alike; the table reports every round and the medians.
 *  2. per call: `Revocations.isRevoked` in this process, with markers for 10,000 revoked
 *     sessions and 1,000 role changes loaded, in nanoseconds.
 * The database holds those same 11,000 revocations, so each instance's Postgres refresh reads a
 * realistic amount every second. Writes bench/results/revocation.json and .md.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import { Revocations } from '../src/auth/revocations.js';
import { TokenService } from '../src/auth/tokens.js';
import { createSession } from '../src/modules/accounts/session.repository.js';
import { users } from '../src/db/schema.js';
import { benchRun, createBenchDatabase, dropBenchData, percentile, sleep, startProcess, stopProcess } from './lib.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const REVOKED_SESSIONS = 10_000;
const ROLE_CHANGES = 1_000;

const run = benchRun(PG_ADMIN);
const { dbName, dbUrl, redisPrefix, secret } = run;

interface Round {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  errors: number;
}

async function prepare(): Promise<string> {
  const database = await createBenchDatabase(PG_ADMIN, run);
  try {
    const { db } = database;
    // Users whose role changed a minute ago, and revoked sessions (one user each, set-based).
    await db.execute(sql`insert into users (email, password_hash, display_name, role, role_changed_at)
      select 'bench' || g || '@example.test', 'x', 'Bench ' || g, 'STUDENT', now() - interval '1 minute' from generate_series(1, ${ROLE_CHANGES}) g`);
    await db.execute(sql`insert into auth_sessions (user_id, expires_at, revoked_at, revoked_reason)
      select (select id from users order by created_at limit 1), now() + interval '1 day', now() - interval '1 minute', 'LOGOUT' from generate_series(1, ${REVOKED_SESSIONS})`);
    const [viewer] = await db
      .insert(users)
      .values({ email: 'viewer@example.test', passwordHash: 'x', displayName: 'Viewer', role: 'STUDENT' })
      .returning();
    const { session } = await createSession(db, viewer!.id, 1, 'bench');
    const tokens = new TokenService({
      secret,
      issuer: 'eduflow',
      audience: 'eduflow-api',
      accessTokenTtlSeconds: 3600,
    });
    return (await tokens.signAccessToken({ userId: viewer!.id, role: 'STUDENT', sessionId: session.id })).token;
  } finally {
    await database.close();
  }
}

async function start(check: boolean): Promise<{ url: string; stop: () => Promise<void> }> {
  const { child, match } = await startProcess(
    ['--import', 'tsx', 'src/main.ts'],
    {
      // Not production: production refuses REVOCATION_CHECK=false. Both processes alike.
      NODE_ENV: 'development',
      LOG_QUERY_COUNTS: 'false',
      DATABASE_URL: dbUrl,
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: secret,
      ACCESS_TOKEN_TTL_SECONDS: '3600',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_MIGRATE_ON_START: 'false',
      NOTIFICATION_WORKER: 'off',
      REVOCATION_CHECK: String(check),
      COST_BUDGET_PER_MINUTE: '0',
    },
    /EduFlow GraphQL API: (http:\/\/\S+)/,
  );
  return { url: match[1]!, stop: () => stopProcess(child) };
}

async function measure(url: string, token: string, duration: number): Promise<Round> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ __typename }' }),
    connections: CONNECTIONS,
    duration,
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** ns per call of the check, with realistic markers loaded, against an empty loop. */
function perCall(): { checkNs: number; loopNs: number; calls: number } {
  const r = new Revocations(3_600_000);
  const now = Date.now();
  for (let i = 0; i < REVOKED_SESSIONS; i++) r.revokeSession(randomUUID(), now, now);
  for (let i = 0; i < ROLE_CHANGES; i++) r.roleChanged(randomUUID(), 'STUDENT', 'INSTRUCTOR', now, now);
  const viewers = Array.from({ length: 1024 }, () => ({
    userId: randomUUID(),
    role: 'STUDENT' as const,
    sessionId: randomUUID(),
    issuedAt: Math.floor(now / 1000),
  }));
  const calls = 5_000_000;
  let sink = 0;
  const time = (fn: (i: number) => boolean) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) if (fn(i)) sink++;
    return Number(process.hrtime.bigint() - t0) / calls;
  };
  const samples: Array<{ check: number; loop: number }> = [];
  for (let k = 0; k < 5; k++) {
    samples.push({
      loop: time((i) => viewers[i & 1023]!.issuedAt === 0),
      check: time((i) => r.isRevoked(viewers[i & 1023]!)),
    });
  }
  if (sink < 0) console.log(sink);
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { checkNs: median(samples.map((s) => s.check)), loopNs: median(samples.map((s) => s.loop)), calls };
}

async function main() {
  console.log(
    `revocation benchmark: signed-in { __typename }, ${CONNECTIONS} connections, ${ROUNDS} rounds × ${DURATION} s per variant (node ${process.version}, ${cpus().length} CPUs)`,
  );
  try {
    const token = await prepare();
    const [on, off] = await Promise.all([start(true), start(false)]);
    try {
      for (const api of [on, off]) {
        const res = await fetch(api.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: '{ me { id } }' }),
        });
        const json = (await res.json()) as { data?: { me?: { id: string } } };
        if (!json.data?.me?.id) throw new Error(`signed-in check failed: ${JSON.stringify(json)}`);
        await measure(api.url, token, 2); // warm-up: JIT, pools
      }
      const rounds: Array<{ order: string; off: Round; on: Round }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        const offFirst = i % 2 === 0;
        const first = await measure(offFirst ? off.url : on.url, token, DURATION);
        await sleep(300);
        const second = await measure(offFirst ? on.url : off.url, token, DURATION);
        await sleep(300);
        const round = offFirst
          ? { order: 'off, on', off: first, on: second }
          : { order: 'on, off', off: second, on: first };
        rounds.push(round);
        console.log(
          `round ${i + 1} (${round.order}): off ${round.off.requestsPerSecond} req/s, on ${round.on.requestsPerSecond} req/s`,
        );
      }
      const sorted = (xs: number[]) => xs.slice().sort((x, y) => x - y);
      const medOff = percentile(sorted(rounds.map((r) => r.off.requestsPerSecond)), 50);
      const medOn = percentile(sorted(rounds.map((r) => r.on.requestsPerSecond)), 50);
      const pairRatios = rounds.map((r) => r.on.requestsPerSecond / r.off.requestsPerSecond);
      const medianPairRatio = percentile(sorted(pairRatios), 50);
      const call = perCall();
      const costPct = (1 - medianPairRatio) * 100;
      const perRequestUs = 1e6 / medOff;
      const callSharePct = ((call.checkNs - call.loopNs) / 1000 / perRequestUs) * 100;
      const summary = [
        `median requests/s: check off ${medOff}, check on ${medOn}`,
        `median of per-round ratios on/off: ${medianPairRatio.toFixed(3)} (cost ${costPct.toFixed(1)}% of throughput; rounds range ${Math.min(...pairRatios).toFixed(3)}..${Math.max(...pairRatios).toFixed(3)})`,
        `isRevoked: ${call.checkNs.toFixed(1)} ns per call (empty loop ${call.loopNs.toFixed(1)} ns) with ${REVOKED_SESSIONS} session and ${ROLE_CHANGES} user markers; ` +
          `${perRequestUs.toFixed(0)} µs per request at ${medOff} req/s, so the check itself is ${callSharePct.toFixed(4)}% of a request`,
      ];
      console.log(`\n${summary.join('\n')}\n`);
      const result = {
        date: new Date().toISOString(),
        machine: {
          node: process.version,
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
        },
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        markers: { sessions: REVOKED_SESSIONS, users: ROLE_CHANGES },
        rounds,
        medianRequestsPerSecond: { off: medOff, on: medOn },
        medianPairRatio: Number(medianPairRatio.toFixed(4)),
        throughputCostPercent: Number(costPct.toFixed(2)),
        perCall: call,
      };
      writeFileSync('bench/results/revocation.json', `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(
        'bench/results/revocation.md',
        `# Revocation check benchmark\n\n${result.date}; signed-in \`{ __typename }\`, autocannon ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION} s per variant, ` +
          `two API processes (NODE_ENV=development, LOG_QUERY_COUNTS=false; one with REVOCATION_CHECK=false) on the local Postgres and Redis, ` +
          `${REVOKED_SESSIONS} revoked sessions and ${ROLE_CHANGES} role changes loaded; Node ${process.version}, ${cpus().length} CPUs (${result.machine.cpuModel}). ` +
          `The machine was shared with other test runs: read the spread of the rounds, not only the medians. Produced by \`npm run bench:revocation\`; raw numbers in revocation.json.\n\n` +
          `| round | order | off req/s | on req/s | on/off |\n|---|---|---|---|---|\n` +
          rounds
            .map(
              (r, i) =>
                `| ${i + 1} | ${r.order} | ${r.off.requestsPerSecond} | ${r.on.requestsPerSecond} | ${(r.on.requestsPerSecond / r.off.requestsPerSecond).toFixed(3)} |`,
            )
            .join('\n') +
          `\n\n${summary.map((s) => `- ${s}`).join('\n')}\n`,
      );
      if (rounds.some((r) => r.on.non2xx || r.off.non2xx || r.on.errors || r.off.errors)) process.exitCode = 1;
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
  } finally {
    await dropBenchData(PG_ADMIN, dbName, REDIS_URL, redisPrefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
