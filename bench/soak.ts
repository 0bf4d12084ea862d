/**
 * npm run bench:soak   (SOAK_SUBSCRIBERS=400 SOAK_SLOW=100 SOAK_LOAD_SECONDS=60 SOAK_QUIET_SECONDS=45 SOAK_CYCLES=3)
 *
 * Does the API's memory settle after slow consumers? A real API process (Postgres + Redis,
 * notification workers in-process) goes through cycles of
 *   load  — N subscribers on one course, of which S never read (their TCP reads are paused, so
 *           the server's send buffers fill and it must cut them with 1008), while lesson
 *           status changes and notification fan-outs run back to back;
 *   quiet — every client gone, no traffic.
 * The API's V8 heap is sampled from its /metrics every second (the peak), and measured after a
 * forced full GC (through the inspector) at the end of each phase: what it retains must not
 * keep rising from one quiet phase to the next. Writes bench/results/soak.json and soak.md;
 * exits 1 if the last quiet phase retains more than 20% (and 16 MiB) above the first.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';
import { freePort } from '../test/helpers/services.js';
import { TokenService } from '../src/auth/tokens.js';
import { authSessions, courses, enrollments, users } from '../src/db/schema.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import {
  benchRun,
  connectGraphQLWs,
  createBenchDatabase,
  dropBenchData,
  inBatches,
  rssOf,
  sleep,
  startProcess,
  stopProcess,
  type ProtocolClient,
} from './lib.js';

const N = Number(process.env.SOAK_SUBSCRIBERS ?? 400);
const SLOW = Number(process.env.SOAK_SLOW ?? 100);
const LOAD_S = Number(process.env.SOAK_LOAD_SECONDS ?? 60);
const QUIET_S = Number(process.env.SOAK_QUIET_SECONDS ?? 45);
const CYCLES = Number(process.env.SOAK_CYCLES ?? 3);
const PG_ADMIN = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const SUBSCRIPTION = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status changedAt lesson { id title content status } } }`;
const run = benchRun(PG_ADMIN);
const MiB = 1_048_576;

async function seed() {
  const database = await createBenchDatabase(PG_ADMIN, run);
  const db = database.db;
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const [owner] = await db
    .insert(users)
    .values({ email: 'owner@soak.test', displayName: 'Owner', role: 'INSTRUCTOR', passwordHash: hash })
    .returning();
  const [course] = await db
    .insert(courses)
    .values({ instructorId: owner!.id, slug: 'soak', title: 'Soak', status: 'PUBLISHED' })
    .returning();
  const students = await db
    .insert(users)
    .values(
      Array.from({ length: N }, (_, i) => ({
        email: `s${i}@soak.test`,
        displayName: `Student ${i}`,
        role: 'STUDENT' as const,
        passwordHash: hash,
      })),
    )
    .returning({ id: users.id });
  await db.insert(enrollments).values(students.map((s) => ({ studentId: s.id, courseId: course!.id })));
  const expiresAt = new Date(Date.now() + 86_400_000);
  const sessions = await db
    .insert(authSessions)
    .values(students.map((s) => ({ userId: s.id, expiresAt })))
    .returning({ id: authSessions.id });
  const [ownerSession] = await db.insert(authSessions).values({ userId: owner!.id, expiresAt }).returning();
  await database.close();
  const tokens = new TokenService({
    secret: run.secret,
    issuer: 'eduflow',
    audience: 'eduflow-api',
    accessTokenTtlSeconds: 6 * 3_600,
  });
  return {
    courseId: toGlobalId('Course', course!.id),
    studentTokens: await Promise.all(
      students.map((s, i) =>
        tokens.signAccessToken({ userId: s.id, role: 'STUDENT', sessionId: sessions[i]!.id }).then((t) => t.token),
      ),
    ),
    ownerToken: (await tokens.signAccessToken({ userId: owner!.id, role: 'INSTRUCTOR', sessionId: ownerSession!.id }))
      .token,
  };
}

async function gql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** In production /metrics is served only with its token (src/observability/metrics-guard.ts). */
const METRICS_TOKEN = `bench-metrics-${randomBytes(8).toString('hex')}`;
const metricsText = async (url: string) =>
  (await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();

async function heapUsed(url: string): Promise<number> {
  const text = await metricsText(url);
  return Number(/^eduflow_nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? NaN);
}

async function wsConnections(url: string): Promise<number> {
  const text = await metricsText(url);
  return Number(/^eduflow_ws_connections (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/**
 * The API's heap right after a full garbage collection, through its inspector (V8 does not
 * collect an idle heap by itself, so samples alone cannot tell garbage from retained memory).
 */
async function heapAfterGc(inspectPort: number): Promise<number> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const socket = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve) => {
      const my = ++id;
      const onMessage = (raw: Buffer) => {
        const msg = JSON.parse(String(raw));
        if (msg.id !== my) return;
        socket.off('message', onMessage);
        resolve(msg.result);
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: my, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const { result } = await call('Runtime.evaluate', {
      expression: 'process.memoryUsage().heapUsed',
      returnByValue: true,
    });
    return Number(result.value);
  } finally {
    socket.close();
  }
}

interface Phase {
  name: string;
  seconds: number;
  /** After a forced full GC at the end of the phase: what the process retains. */
  heapAfterGcMiB: number;
  heapMaxMiB: number;
  rssEndMiB: number;
  mutations?: number;
  slowCut?: number;
}

/** Samples the heap every second while `work` runs (or for `seconds` when it is absent). */
async function phase(
  name: string,
  url: string,
  pid: number,
  inspectPort: number,
  seconds: number,
  work?: (until: number) => Promise<Partial<Phase>>,
): Promise<Phase> {
  const samples: number[] = [];
  const until = Date.now() + seconds * 1_000;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await heapUsed(url).catch(() => NaN));
      await sleep(1_000);
    }
  })();
  const extra = work ? await work(until) : (await sleep(seconds * 1_000), {});
  sampling = false;
  await sampler;
  const ok = samples.filter((s) => Number.isFinite(s));
  const heap = await heapAfterGc(inspectPort);
  const p: Phase = {
    name,
    seconds,
    heapAfterGcMiB: round(heap / MiB),
    heapMaxMiB: round(Math.max(...ok) / MiB),
    rssEndMiB: round(rssOf(pid) / MiB),
    ...extra,
  };
  console.log(JSON.stringify(p));
  return p;
}

const round = (n: number) => Math.round(n * 10) / 10;

async function load(url: string, data: Awaited<ReturnType<typeof seed>>, until: number): Promise<Partial<Phase>> {
  const wsUrl = url.replace(/^http/, 'ws');
  const clients: ProtocolClient[] = await inBatches(N, 50, (i) =>
    connectGraphQLWs(wsUrl, data.studentTokens[i]!, SUBSCRIPTION, { c: data.courseId }),
  );
  clients.forEach((c, i) => {
    c.socket.on('error', () => {});
    // A slow consumer: the socket stays open but nothing is read from it any more.
    if (i < SLOW) (c.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  });
  let mutations = 0;
  const big = 'x'.repeat(90_000); // large events fill a paused client's buffers quickly
  while (Date.now() < until) {
    const { createLesson } = await gql(
      url,
      data.ownerToken,
      `mutation($c: ID!, $t: String!, $b: String) { createLesson(input: { courseId: $c, title: $t, content: $b }) { id } }`,
      {
        c: data.courseId,
        t: `Soak ${mutations}`,
        b: big,
      },
    );
    await gql(url, data.ownerToken, `mutation($id: ID!) { startLesson(id: $id) { status } }`, { id: createLesson.id });
    await gql(url, data.ownerToken, `mutation($id: ID!) { cancelLesson(id: $id) { status } }`, { id: createLesson.id }); // fans out N notifications
    mutations += 3;
    // The readers' received events are not checked here: dropped, or 300 readers holding every
    // 90 kB event filled this process's heap within 40 s once the API got faster.
    for (const c of clients) c.received.length = 0;
  }
  // A paused client never reads its 1008 close frame: count the server's open sockets instead.
  const open = await wsConnections(url);
  for (const c of clients) c.socket.terminate();
  return { mutations, slowCut: N - open };
}

async function main() {
  console.log(
    `soak: ${N} subscribers (${SLOW} slow), ${CYCLES} × (${LOAD_S} s load + ${QUIET_S} s quiet), node ${process.version}, ${cpus().length} CPUs`,
  );
  try {
    const data = await seed();
    const inspectPort = await freePort();
    const { child, match } = await startProcess(
      [`--inspect=127.0.0.1:${inspectPort}`, '--import', 'tsx', 'src/main.ts'],
      {
        NODE_ENV: 'production',
        MAIL_TRANSPORT: 'log',
        DATABASE_URL: run.dbUrl,
        REDIS_URL,
        REDIS_KEY_PREFIX: run.redisPrefix,
        JWT_SECRET: run.secret,
        // The seeded tokens live six hours: the server refuses tokens living longer than its TTL.
        ACCESS_TOKEN_TTL_SECONDS: String(6 * 3_600),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        MAX_SOCKETS_PER_IP: '0',
        COST_BUDGET_PER_MINUTE: '0',
        METRICS_TOKEN,
      },
      /EduFlow GraphQL API: (http:\/\/\S+)/,
    );
    const url = match[1]!;
    const pid = child.pid!;
    try {
      const phases: Phase[] = [await phase('idle', url, pid, inspectPort, 10)];
      for (let c = 1; c <= CYCLES; c++) {
        phases.push(await phase(`load ${c}`, url, pid, inspectPort, LOAD_S, (until) => load(url, data, until)));
        phases.push(await phase(`quiet ${c}`, url, pid, inspectPort, QUIET_S));
      }
      const quiet = phases.filter((p) => p.name.startsWith('quiet'));
      const growth = quiet.at(-1)!.heapAfterGcMiB - quiet[0]!.heapAfterGcMiB;
      const settled = growth <= Math.max(16, quiet[0]!.heapAfterGcMiB * 0.2);
      const result = {
        date: new Date().toISOString(),
        machine: {
          node: process.version,
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
        },
        settings: { subscribers: N, slow: SLOW, loadSeconds: LOAD_S, quietSeconds: QUIET_S, cycles: CYCLES },
        phases,
        quietFloorGrowthMiB: round(growth),
        settled,
      };
      writeFileSync('bench/results/soak.json', `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(
        'bench/results/soak.md',
        `# Soak: memory after slow consumers\n\n${result.date}, Node ${process.version}, ${cpus().length} CPUs (${result.machine.cpuModel}). ` +
          `Produced by \`npm run bench:soak\`; raw numbers in soak.json.\n\n` +
          `${N} subscribers (${SLOW} never read: cut with 1008), ${CYCLES} cycles of ${LOAD_S} s load (create, start, cancel a lesson with 90 kB of content, back to back; each cancel notifies all ${N}) and ${QUIET_S} s quiet.\n\n` +
          `| phase | heap after full GC, end of phase (MiB) | heap max sampled (MiB) | RSS at end (MiB) | mutations | slow consumers cut (1008) |\n|---|---|---|---|---|---|\n` +
          phases
            .map(
              (p) =>
                `| ${p.name} | ${p.heapAfterGcMiB} | ${p.heapMaxMiB} | ${p.rssEndMiB} | ${p.mutations ?? ''} | ${p.slowCut ?? ''} |`,
            )
            .join('\n') +
          `\n\nHeap after GC at the end of the last quiet phase minus the first: ${round(growth)} MiB (${settled ? 'settled' : 'NOT settled'}).\n`,
      );
      console.log(`quiet heap (after GC) growth ${round(growth)} MiB: ${settled ? 'settled' : 'NOT settled'}`);
      if (!settled) process.exitCode = 1;
    } finally {
      await stopProcess(child);
    }
  } finally {
    await dropBenchData(PG_ADMIN, run.dbName, REDIS_URL, run.redisPrefix);
  }
}

await main();
