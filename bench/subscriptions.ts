/**
 * npm run bench:subscriptions [-- <subscribers>]   (SUBSCRIBERS=10000 ROUNDS=5 also work)
 *
 * N real WebSocket subscribers (graphql-transport-ws) on one course of a real API process
 * (Postgres + Redis, as in production), one lesson status change per round:
 *  - delivery latency from sending the mutation to each subscriber receiving the event
 *    (p50 / p95 / p99 / max), and how many were delivered (must be N);
 *  - the API process's resident memory per connection;
 * and the same with a bare `ws` server broadcasting the same payload to the same number of
 * clients, for scale. Needs the local Postgres and Redis (as `npm test` does). Prints a table
 * and writes bench/results/subscriptions-<N>.json and .md.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import postgres from 'postgres';
import { TokenService } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/db/client.js';
import { authSessions, courses, enrollments, lessons, users } from '../src/db/schema.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { createLogger } from '../src/logging/logger.js';
import {
  connectBare,
  connectGraphQLWs,
  inBatches,
  rssOf,
  sleep,
  startProcess,
  stopProcess,
  summarize,
  type ProtocolClient,
  dropBenchData,
} from './lib.js';

const N = Number(process.argv[2] ?? process.env.SUBSCRIBERS ?? 2_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const DELIVERY_TIMEOUT_MS = 60_000;
const SUBSCRIPTION = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus status changedAt lesson { id title status startedAt } } }`;

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
  latencyMs: ReturnType<typeof summarize>;
}

type Match = (data: any) => boolean;
const any: Match = () => true;

/** When `client` first received a message matching `match`, if it did. */
const arrival = (client: ProtocolClient, match: Match) => client.received.find((r) => match(r.data))?.at;

async function waitForAll(clients: ProtocolClient[], match: Match): Promise<void> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (Date.now() < deadline && clients.some((c) => arrival(c, match) === undefined)) await sleep(5);
}

/** Waits until no client has received anything for `ms` (late warm-up events drained). */
async function settle(clients: ProtocolClient[], ms: number): Promise<void> {
  for (let seen = -1; ; ) {
    const total = clients.reduce((n, c) => n + c.received.length, 0);
    if (total === seen) return;
    seen = total;
    await sleep(ms);
  }
}

function measure(clients: ProtocolClient[], t0: number, match: Match): Round {
  const latencies = clients.map((c) => arrival(c, match)).filter((at): at is number => at !== undefined).map((at) => at - t0);
  return { delivered: latencies.length, latencyMs: summarize(latencies) };
}

/** Creates the database, the course, N enrolled students with sessions, and their tokens. */
async function seed() {
  const admin = postgres(PG_ADMIN, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end();
  const database = createDatabase(loadConfig({ DATABASE_URL: dbUrl(dbName), JWT_SECRET: secret, LOG_LEVEL: 'warn' }), createLogger('warn'));
  await database.migrate();
  const db = database.db;
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const [owner] = await db.insert(users).values({ email: 'owner@bench.test', displayName: 'Owner', role: 'INSTRUCTOR', passwordHash: hash }).returning();
  const [course] = await db.insert(courses).values({ instructorId: owner!.id, slug: 'bench', title: 'Bench', status: 'PUBLISHED' }).returning();
  const lessonRows = await db
    .insert(lessons)
    .values(Array.from({ length: ROUNDS }, (_, i) => ({ courseId: course!.id, title: `Round ${i + 1}`, position: i })))
    .returning();
  const students: Array<{ id: string }> = [];
  for (let i = 0; i < N; i += 1_000) {
    const chunk = Array.from({ length: Math.min(1_000, N - i) }, (_, j) => ({
      email: `s${i + j}@bench.test`,
      displayName: `Student ${i + j}`,
      role: 'STUDENT' as const,
      passwordHash: hash,
    }));
    students.push(...(await db.insert(users).values(chunk).returning({ id: users.id })));
  }
  const expiresAt = new Date(Date.now() + 86_400_000);
  const sessionIds: string[] = [];
  for (let i = 0; i < N; i += 1_000) {
    const part = students.slice(i, i + 1_000);
    await db.insert(enrollments).values(part.map((s) => ({ studentId: s.id, courseId: course!.id })));
    sessionIds.push(...(await db.insert(authSessions).values(part.map((s) => ({ userId: s.id, expiresAt }))).returning({ id: authSessions.id })).map((r) => r.id));
  }
  const [ownerSession] = await db.insert(authSessions).values({ userId: owner!.id, expiresAt }).returning();
  await database.close();

  const tokens = new TokenService({ secret, issuer: 'eduflow', audience: 'eduflow-api', accessTokenTtlSeconds: 3_600 });
  const studentTokens = await Promise.all(students.map((s, i) => tokens.signAccessToken({ userId: s.id, role: 'STUDENT', sessionId: sessionIds[i]! }).then((t) => t.token)));
  const ownerToken = (await tokens.signAccessToken({ userId: owner!.id, role: 'INSTRUCTOR', sessionId: ownerSession!.id })).token;
  return { courseId: toGlobalId('Course', course!.id), lessonIds: lessonRows.map((l) => toGlobalId('Lesson', l.id)), studentTokens, ownerToken };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body;
}

async function benchEduFlow(data: Awaited<ReturnType<typeof seed>>) {
  const { child, match } = await startProcess(
    [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), '--import', 'tsx', 'src/main.ts'],
    {
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl(dbName),
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: secret,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_POOL_MAX: '20',
      // Every benchmark socket comes from 127.0.0.1: lift the per-address caps.
      MAX_SOCKETS_PER_IP: '0',
      COST_BUDGET_PER_MINUTE: '0',
    },
    /EduFlow GraphQL API: (http:\/\/\S+)/,
  );
  const url = match[1]!;
  const wsUrl = url.replace(/^http/, 'ws');
  try {
    await gql(url, data.ownerToken, '{ me { id } }', {});
    await sleep(1_000);
    const rssBefore = rssOf(child.pid!);
    const started = performance.now();
    const clients = await inBatches(N, 100, (i) => connectGraphQLWs(wsUrl, data.studentTokens[i]!, SUBSCRIPTION, { c: data.courseId }));
    const connectSeconds = (performance.now() - started) / 1000;

    // graphql-ws does not acknowledge subscriptions: create lessons until every client has heard one.
    for (let i = 0; i < 50 && clients.some((c) => c.received.length === 0); i++) {
      await gql(url, data.ownerToken, `mutation($c: ID!) { createLesson(input: { courseId: $c, title: "warm-up" }) { id } }`, { c: data.courseId });
      await sleep(500);
    }
    await settle(clients, 1_000);
    const rssAfter = rssOf(child.pid!);
    const sample = JSON.stringify({ id: '1', type: 'next', payload: clients[0]!.received[0]?.data });

    const rounds: Round[] = [];
    for (const lessonId of data.lessonIds) {
      for (const c of clients) c.received.length = 0;
      const t0 = performance.now();
      await gql(url, data.ownerToken, `mutation($id: ID!) { startLesson(id: $id) { status } }`, { id: lessonId });
      const started: Match = (d) => d?.data?.lessonStatusChanged?.lesson?.id === lessonId && d.data.lessonStatusChanged.status === 'IN_PROGRESS';
      await waitForAll(clients, started);
      rounds.push(measure(clients, t0, started));
      await settle(clients, 300);
    }
    for (const c of clients) c.socket.terminate();
    return { connectSeconds, rssBefore, rssAfter, rssPerConnection: (rssAfter - rssBefore) / N, rounds, sample };
  } finally {
    await stopProcess(child);
  }
}

async function benchBare(sample: string) {
  const { child, match } = await startProcess(['--import', 'tsx', 'bench/bare-ws-server.ts'], {}, /BARE_WS_PORT=(\d+)/);
  const port = match[1]!;
  try {
    await sleep(500);
    const rssBefore = rssOf(child.pid!);
    const clients = await inBatches(N, 100, () => connectBare(`ws://127.0.0.1:${port}`));
    await sleep(1_000);
    const rssAfter = rssOf(child.pid!);
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of clients) c.received.length = 0;
      const t0 = performance.now();
      await fetch(`http://127.0.0.1:${port}/broadcast`, { method: 'POST', body: sample });
      await waitForAll(clients, any);
      rounds.push(measure(clients, t0, any));
      await sleep(300);
    }
    for (const c of clients) c.socket.terminate();
    return { rssBefore, rssAfter, rssPerConnection: (rssAfter - rssBefore) / N, rounds };
  } finally {
    await stopProcess(child);
  }
}

const cleanup = () => dropBenchData(PG_ADMIN, dbName, REDIS_URL, redisPrefix);

const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;
const worst = (rounds: Round[], key: 'p50' | 'p95' | 'p99' | 'max') => Math.max(...rounds.map((r) => r.latencyMs[key]));

async function main() {
  console.log(`subscriptions benchmark: ${N} subscribers, ${ROUNDS} rounds (node ${process.version}, ${cpus().length} CPUs)`);
  try {
    const data = await seed();
    const eduflow = await benchEduFlow(data);
    const bare = await benchBare(eduflow.sample);
    const rows = [
      ['', 'EduFlow (graphql-ws + Redis)', 'bare ws broadcast', 'ratio'],
      ['delivered (min of rounds)', `${Math.min(...eduflow.rounds.map((r) => r.delivered))} / ${N}`, `${Math.min(...bare.rounds.map((r) => r.delivered))} / ${N}`, ''],
      ...(['p50', 'p95', 'p99', 'max'] as const).map((k) => [
        `latency ${k} (worst round, ms)`,
        String(worst(eduflow.rounds, k)),
        String(worst(bare.rounds, k)),
        `${(worst(eduflow.rounds, k) / worst(bare.rounds, k)).toFixed(1)}x`,
      ]),
      ['server RSS per connection (KiB)', String(kb(eduflow.rssPerConnection)), String(kb(bare.rssPerConnection)), `${(eduflow.rssPerConnection / bare.rssPerConnection).toFixed(1)}x`],
      ['server RSS with all connected (MiB)', String(Math.round(eduflow.rssAfter / 1048576)), String(Math.round(bare.rssAfter / 1048576)), ''],
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n');
    console.log(`\n${table}\n\nconnect + subscribe ${N} sockets: ${eduflow.connectSeconds.toFixed(1)} s`);
    console.log('per round (EduFlow):', eduflow.rounds.map((r) => `${r.delivered} delivered, p50 ${r.latencyMs.p50} / p99 ${r.latencyMs.p99} / max ${r.latencyMs.max} ms`).join('; '));

    const result = {
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
      subscribers: N,
      rounds: ROUNDS,
      eduflow: { ...eduflow, sample: undefined },
      bare,
    };
    writeFileSync(`bench/results/subscriptions-${N}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(
      `bench/results/subscriptions-${N}.md`,
      `# Subscriptions benchmark\n\n${result.date}, ${N} subscribers, ${ROUNDS} rounds, Node ${process.version}, ${cpus().length} CPUs (${result.machine.cpuModel}).\n` +
        `Produced by \`npm run bench:subscriptions -- ${N}\`; raw numbers in subscriptions-${N}.json.\n\n` +
        `| ${rows[0]!.join(' | ')} |\n|${rows[0]!.map(() => '---').join('|')}|\n${rows.slice(1).map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`,
    );
    const lost = eduflow.rounds.some((r) => r.delivered !== N);
    if (lost) {
      console.error('FAIL: not every subscriber received every event');
      process.exitCode = 1;
    }
    console.log(`\nresults written to bench/results/subscriptions-${N}.json and .md`);
  } finally {
    await cleanup();
  }
}

await main();
