/**
 * npm run bench:scale — the failover soak (issue 27 point 5).
 *
 * On this machine, from its own binaries: a 6-node Redis Cluster (3 masters + 3 replicas), a
 * Postgres primary with one streaming replica (read through a read-only role), 3 API and 2
 * worker processes of the compiled build, mail to an SMTP sink in this process. A mixed load
 * runs for SCALE_SECONDS (default 300): catalog reads (cached, signed-in, misses), lesson
 * lifecycles by instructors, enrollments, completion marks, course retitles read back, and
 * SCALE_SUBSCRIBERS (default 2000) live subscribers spread over the APIs. Faults, each opening
 * a phase: SIGKILL of a Redis master; SIGKILL of an API (started again after the fault);
 * the replica stopped; its replay paused (each SCALE_FAULT_SECONDS, default 30).
 * Then it checks, against Postgres: every acknowledged write present; every notification once
 * in-app and at least once by email; every subscriber's events exactly once and in order; no
 * stale cached read after an acknowledged write. Errors and p50/p99 per phase.
 * Results: bench/results/scale.{json,md}. Exit code 1 when a check fails.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { encodeEventCursor } from '../src/modules/lessons/lesson.events.js';
import { Apis, LiveSubscriber } from './scale-clients.js';
import {
  enrolling,
  lifecycle,
  marking,
  paced,
  reading,
  staleProbe,
  type Acknowledged,
  type StaleCheck,
} from './scale-load.js';
import { markdown } from './scale-report.js';
import { seed, type Seeded } from './scale-seed.js';
import { METRICS_TOKEN, startTopology, type Topology } from './scale-topology.js';
import { inBatches, machineInfo, sleep, summarize } from './lib.js';
import { verify } from './scale-verify.js';

const SECONDS = Number(process.env.SCALE_SECONDS ?? 300);
const SUBSCRIBERS = Number(process.env.SCALE_SUBSCRIBERS ?? 2000);
const FAULT_S = Math.max(1, Math.min(Number(process.env.SCALE_FAULT_SECONDS ?? 30), Math.floor(SECONDS * 0.2) - 5));
const LIVE_COURSES = Math.min(50, Math.max(1, Math.floor(SUBSCRIBERS / 4)));
const RATES = { lifecycle: 4, enroll: 4, marks: 8, reads: 80, staleProbes: 2 };
const APIS = 3;
// SCALE_AFTER_FROM_THE_START=1: every subscription is made with `after` (a resuming client's path).
const AFTER_FROM_THE_START = process.env.SCALE_AFTER_FROM_THE_START === '1';
const WORKERS = 2;

const execFileAsync = promisify(execFile);
const runId = randomBytes(3).toString('hex');

let topology: Topology | undefined;
let subscribers: LiveSubscriber[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const s of subscribers) s.close();
    await topology?.stop();
  })();
  return cleaning;
}
process.once('SIGINT', () => {
  console.error('interrupted: cleaning up');
  void cleanup().finally(() => process.exit(130));
});

/** Phases: each fault opens one, which lasts until the next. */
const phases: Array<{ name: string; startedAt: number; events: Array<{ at: number; what: string }> }> = [];
let runStart = 0;
const phase = () => phases.at(-1)?.name ?? 'setup';
const offset = (t = Date.now()) => Math.round((t - runStart) / 100) / 10;
function openPhase(name: string) {
  phases.push({ name, startedAt: Date.now(), events: [] });
  console.log(`[${offset()} s] phase ${name}`);
}
function note(what: string) {
  phases.at(-1)!.events.push({ at: offset(), what });
  console.log(`[${offset()} s] ${what}`);
}

async function clusterHealthy(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const out = await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'cluster', 'info']).catch(
      () => null,
    );
    if (!out?.stdout.includes('cluster_state:ok')) return false;
  }
  return true;
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await sleep(intervalMs);
  }
  return null;
}

async function faults(t: Topology, apis: Apis, until: (s: number) => Promise<void>) {
  const measured: Record<string, unknown> = {};

  await until(SECONDS * 0.1);
  openPhase('redis-master-killed');
  const master = t.cluster.masters()[0]!;
  const killedAt = Date.now();
  await t.cluster.kill(master);
  note(`SIGKILL Redis master :${master}`);
  const alive = () => t.cluster.nodes.filter((n) => n.port !== master).map((n) => n.port);
  const healedMs = await waitFor(() => clusterHealthy(alive()), 60_000);
  note(`cluster_state ok on the 5 remaining nodes after ${healedMs ?? '>60000'} ms`);
  measured.redisFailoverMs = healedMs;
  await sleep(Math.max(0, killedAt + FAULT_S * 1000 - Date.now()));
  // SCALE_REDIS_RESTART=end: the killed node stays down until the load stops.
  const restartMaster = async () => {
    await t.cluster.restart(master);
    note(`Redis node :${master} started again (rejoins as a replica)`);
  };
  if (process.env.SCALE_REDIS_RESTART !== 'end') await restartMaster();
  else measured.redisRestartedAtTheEnd = true;

  await until(SECONDS * 0.3);
  openPhase('api-killed');
  const victim = t.processes.find((p) => p.name === 'api-1')!;
  const moving = subscribers.filter((s) => s.open && s.apiUrl === victim.url);
  const reconnectsBefore = new Map(moving.map((s) => [s, s.reconnects]));
  const apiKilledAt = Date.now();
  victim.child.kill('SIGKILL');
  note(`SIGKILL api-1 (${moving.length} subscribers connected to it)`);
  const backMs = await waitFor(() => moving.every((s) => s.open && s.reconnects > reconnectsBefore.get(s)!), 60_000);
  note(`its ${moving.length} subscribers connected to the other APIs after ${backMs ?? '>60000'} ms`);
  measured.apiKill = { subscribersOnKilledApi: moving.length, allReconnectedMs: backMs };
  await sleep(Math.max(0, apiKilledAt + FAULT_S * 1000 - Date.now()));
  // Started again in the background (as an orchestrator would): the phases go on meanwhile.
  const restarting = t.startApi('api-1').then((restarted) => {
    apis.urls[apis.urls.indexOf(victim.url)] = restarted.url;
    note(`api-1 started again at ${restarted.url}`);
  });
  note('api-1 starting again');

  await until(SECONDS * 0.5);
  openPhase('replica-stopped');
  await t.pg.stopReplica();
  note('replica stopped (pg_ctl stop -m immediate)');
  await sleep(FAULT_S * 1000);
  await t.pg.startReplica();
  note('replica started');

  await until(SECONDS * 0.7);
  openPhase('replay-paused');
  await t.pg.pauseReplay();
  note('replica replay paused (pg_wal_replay_pause)');
  await sleep(FAULT_S * 1000);
  await t.pg.resumeReplay();
  note('replica replay resumed');

  await until(SECONDS * 0.9);
  openPhase('after-faults');
  await restarting;
  return { measured, restartMaster: measured.redisRestartedAtTheEnd ? restartMaster : async () => {} };
}

async function metricsOf(url: string): Promise<Record<string, number>> {
  const text = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    .then((r) => r.text())
    .catch(() => '');
  const out: Record<string, number> = {};
  for (const line of text.split('\n'))
    if (/^eduflow_(db_reads_total|db_replica_fallbacks_total|ws_live_subscriptions)[{ ]/.test(line)) {
      const [name, value] = line.split(' ');
      out[name!] = (out[name!] ?? 0) + Number(value);
    }
  return out;
}

async function main() {
  console.log(
    `scale soak: ${SECONDS} s, ${SUBSCRIBERS} subscribers on ${LIVE_COURSES} live courses, faults of ${FAULT_S} s (${cpus().length} CPUs)`,
  );
  const loadBefore = loadavg();
  const t = await startTopology();
  topology = t;
  const sql = postgres(t.env.DATABASE_URL!, { max: 4, onnotice: () => {} });
  try {
    const seeded: Seeded = await seed(sql, t.secret, {
      instructors: 5,
      liveCourses: LIVE_COURSES,
      subscribers: SUBSCRIBERS,
      catalogCourses: 20,
      enrollers: 600,
    });
    for (let i = 0; i < APIS; i++) await t.startApi(`api-${i + 1}`);
    for (let i = 0; i < WORKERS; i++) await t.startWorker(`worker-${i + 1}`);
    const apis = new Apis(phase);
    apis.urls = t.processes.filter((p) => p.url).map((p) => p.url);

    // One event per live course before anyone subscribes: its cursor is where a subscriber
    // that has received nothing yet resumes from.
    const createOne = (title: string) =>
      inBatches(seeded.liveCourses.length, 10, (i) => {
        const c = seeded.liveCourses[i]!;
        return apis.gql(
          'write',
          'setup',
          `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`,
          { c: c.gid, t: title },
          seeded.tokens.get(c.instructorId),
        );
      });
    await createOne('before subscribing');
    const baseline = new Map(
      (
        await sql<
          { course_id: string; seq: string }[]
        >`select course_id, max(seq) as seq from lesson_events group by course_id`
      ).map((r) => [r.course_id, Number(r.seq)]),
    );
    if (baseline.size !== seeded.liveCourses.length)
      throw new Error(`a baseline lesson was not created: ${JSON.stringify([...apis.examples])}`);
    subscribers = seeded.subscribers.map(
      (s, i) =>
        new LiveSubscriber(
          s.studentId,
          s.courseId,
          seeded.liveCourses.find((c) => c.id === s.courseId)!.gid,
          seeded.tokens.get(s.studentId)!,
          encodeEventCursor(baseline.get(s.courseId)!),
          () => apis.urls,
          i,
          AFTER_FROM_THE_START,
        ),
    );
    const connectStarted = Date.now();
    await inBatches(subscribers.length, 100, (i) => subscribers[i]!.connect());
    // graphql-ws acknowledges no subscription: the APIs' gauge says when every one listens.
    // From then on every event of their courses must reach them.
    const liveMs = await waitFor(
      async () => {
        let live = 0;
        for (const url of apis.urls) live += (await metricsOf(url))['eduflow_ws_live_subscriptions'] ?? 0;
        return live >= subscribers.length;
      },
      120_000,
      500,
    );
    if (liveMs === null && !AFTER_FROM_THE_START) {
      const gauges = await Promise.all(apis.urls.map(metricsOf));
      throw new Error(`not every subscription became live within 2 minutes: ${JSON.stringify(gauges)}`);
    }
    const connectMs = Date.now() - connectStarted;
    console.log(`${subscribers.length} subscribers connected and live in ${connectMs} ms`);
    await createOne('after subscribing');
    apis.samples.length = 0;

    const ack: Acknowledged = { lessons: [], enrollments: [], marks: [], titles: new Map() };
    const stale: StaleCheck = { probes: 0, stale: [], readErrors: 0 };
    const failures: string[] = [];
    let running = true;
    const isRunning = () => running;
    runStart = Date.now();
    openPhase('steady');
    const until = async (s: number) => {
      const wait = runStart + s * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
    };
    const life = lifecycle(apis, seeded, ack, runId);
    const loads = [
      paced(isRunning, RATES.lifecycle, 5, (loop, i) => life(loop, i, 5), failures),
      paced(isRunning, RATES.enroll, 2, enrolling(apis, seeded, ack), failures),
      paced(isRunning, RATES.marks, 2, marking(apis, seeded, ack), failures),
      paced(isRunning, RATES.reads, 8, reading(apis, seeded), failures),
      paced(isRunning, RATES.staleProbes, 1, staleProbe(apis, seeded, ack, stale, phase), failures),
    ];
    const { measured, restartMaster } = await faults(t, apis, until);
    await until(SECONDS);
    running = false;
    await Promise.all(loads);
    const loadEnd = Date.now();
    note('load stopped');
    await restartMaster();

    const metrics: Record<string, Record<string, number>> = {};
    for (const p of t.processes.filter((p) => p.url && p.child.exitCode === null && p.child.signalCode === null))
      metrics[`${p.name} ${p.url}`] = await metricsOf(p.url);

    const phaseOf = (at: number) => [...phases].reverse().find((p) => p.startedAt <= at)?.name ?? 'setup';
    const checks = await verify({ sql, seeded, ack, subscribers, sink: t.smtp, baseline, phaseOf });
    const settleMs = Date.now() - loadEnd;
    // SCALE_DEBUG=<file>: every subscriber that missed an event, with what it got.
    if (process.env.SCALE_DEBUG) writeFileSync(process.env.SCALE_DEBUG, JSON.stringify(checks.debug, null, 1));

    const byPhase = phases.map((p, i) => {
      const xs = apis.samples.filter((s) => s.phase === p.name);
      const part = (kind: 'read' | 'write') => {
        const ys = xs.filter((s) => s.kind === kind);
        const errors: Record<string, number> = {};
        for (const s of ys) if (s.code) errors[s.code] = (errors[s.code] ?? 0) + 1;
        const { p50, p99 } = summarize(ys.map((s) => s.ms));
        return { requests: ys.length, errors, p50, p99 };
      };
      const end = phases[i + 1]?.startedAt ?? loadEnd;
      const lag = checks.live.lagByPhase(p.startedAt, end);
      return {
        phase: p.name,
        startsAtS: offset(p.startedAt),
        seconds: Math.round((end - p.startedAt) / 100) / 10,
        events: p.events,
        reads: part('read'),
        writes: part('write'),
        liveDeliveryMs: lag,
      };
    });
    const result = {
      date: new Date().toISOString(),
      machine: {
        ...machineInfo(),
        loadAverage: {
          before: loadBefore.map((x) => Math.round(x * 100) / 100),
          after: loadavg().map((x) => Math.round(x * 100) / 100),
        },
      },
      settings: {
        seconds: SECONDS,
        subscribers: SUBSCRIBERS,
        subscribeWithAfterFromTheStart: AFTER_FROM_THE_START,
        liveCourses: LIVE_COURSES,
        faultSeconds: FAULT_S,
        ratesPerSecond: RATES,
        apis: APIS,
        workers: WORKERS,
      },
      subscribersConnectMs: connectMs,
      faults: measured,
      phases: byPhase,
      checks: checks.summary,
      staleReads: stale,
      dbReadsBySurvivingApis: metrics,
      settleMs,
      loadFailures: failures.slice(0, 20),
      errorExamples: Object.fromEntries(apis.examples),
    };
    writeFileSync('bench/results/scale.json', `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync('bench/results/scale.md', markdown(result));
    console.log(markdown(result));
    if (!checks.ok || stale.stale.length > 0 || failures.length > 0) {
      process.exitCode = 1;
      console.error('a check failed: see bench/results/scale.md');
    }
  } finally {
    await sql.end({ timeout: 1 });
    await cleanup();
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  // Pools and timers of the helpers would keep the process alive.
  .finally(() => setTimeout(() => process.exit(), 100));
