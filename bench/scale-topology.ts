/**
 * The scale-out topology of `npm run bench:scale`, from the machine's own binaries: a 6-node
 * Redis Cluster, a Postgres primary with one streaming replica (read through a read-only role),
 * an SMTP sink in this process, and the compiled API and worker processes (dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logging/logger.js';
import { startPrimaryWithReplica } from '../test/helpers/pg-replica.js';
import { startRedisCluster } from '../test/helpers/redis-cluster.js';
import { sleep } from './lib.js';

export const METRICS_TOKEN = 'scale-bench-metrics-token';
/** Longer than any run: a client renewing its token is not what this measures. */
export const TOKEN_TTL_SECONDS = 4 * 3600;

/** Counts every message per (recipient, subject): a notification's email is identified so. */
export function smtpSink() {
  const received = new Map<string, number>();
  let messages = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 8_192) head += chunk.toString('utf8');
      });
      stream.on('end', () => {
        const subject = decodeSubject(/^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1] ?? '');
        for (const r of session.envelope.rcptTo) {
          const key = `${r.address.toLowerCase()}\n${subject}`;
          received.set(key, (received.get(key) ?? 0) + 1);
        }
        messages++;
        callback();
      });
    },
  });
  return new Promise<{
    url: string;
    received: Map<string, number>;
    messages: () => number;
    close: () => Promise<void>;
  }>((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.server.address() as { port: number };
      resolve({
        url: `smtp://127.0.0.1:${port}`,
        received,
        messages: () => messages,
        close: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}

/** Unfolds a header and decodes its RFC 2047 encoded words (nodemailer encodes non-ASCII subjects). */
function decodeSubject(raw: string): string {
  return raw
    .replace(/\r?\n[ \t]/g, ' ')
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    )
    .trim();
}

export interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
}

export async function startTopology() {
  const secret = randomBytes(32).toString('hex');
  const cluster = await startRedisCluster();
  let pg: Awaited<ReturnType<typeof startPrimaryWithReplica>> | undefined;
  let smtp: Awaited<ReturnType<typeof smtpSink>> | undefined;
  try {
    pg = await startPrimaryWithReplica();
    smtp = await smtpSink();
  } catch (err) {
    await pg?.destroy();
    await cluster.stop();
    throw err;
  }
  const database = createDatabase(
    loadConfig({ DATABASE_URL: pg.primaryUrl, JWT_SECRET: secret, LOG_LEVEL: 'warn' }),
    createLogger('warn'),
  );
  await database.migrate();
  await database.close();

  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET: secret,
    DATABASE_URL: pg.primaryUrl,
    DATABASE_REPLICA_URLS: pg.replicaUrl,
    DB_MIGRATE_ON_START: 'false',
    REDIS_CLUSTER_NODES: cluster.seeds,
    CACHE_REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_SHARDED_PUBSUB: 'true',
    SMTP_URL: smtp.url,
    METRICS_TOKEN,
    // Every benchmark client comes from 127.0.0.1 and each holds one socket and subscription.
    MAX_SOCKETS_PER_IP: '0',
    MAX_SUBSCRIPTIONS_PER_USER: '0',
    COST_BUDGET_PER_MINUTE: '0',
    // The longest lifetime a token may have; the benchmark signs its clients' tokens itself.
    ACCESS_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
  };
  const processes: Proc[] = [];

  /**
   * Spawns the entry point and resolves once its output matches `ready`. Tracked from the
   * spawn on, so that a run interrupted while it starts still stops it.
   */
  function start(name: string, entry: string, extra: Record<string, string>, ready: RegExp): Promise<Proc> {
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc: Proc = { name, child, url: '' };
    processes.push(proc);
    let out = '';
    let started = false;
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        if (started) return;
        out += chunk.toString();
        const match = ready.exec(out);
        if (match) {
          started = true;
          proc.url = match[1] ?? '';
          resolve(proc);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
    });
  }
  const startApi = (name: string) =>
    start(
      name,
      'dist/main.js',
      { PORT: '0', HOST: '127.0.0.1', NOTIFICATION_WORKER: 'off' },
      /EduFlow GraphQL API: (http:\/\/\S+)/,
    );
  // Its ready line is an info log.
  const startWorker = (name: string) =>
    start(name, 'dist/worker.js', { WORKER_METRICS_PORT: '0', LOG_LEVEL: 'info' }, /EduFlow worker running()/);

  /** Every process, Redis node and Postgres server gone, the temporary folders removed. */
  async function stop(): Promise<void> {
    await Promise.all(
      processes.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        if ((await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)])) === false) {
          child.kill('SIGKILL');
          await exited;
        }
      }),
    );
    await smtp?.close();
    await pg?.destroy();
    await cluster.stop();
  }

  return { cluster, pg, smtp, env, secret, processes, startApi, startWorker, stop };
}

export type Topology = Awaited<ReturnType<typeof startTopology>>;
