import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { Config } from '../config/config.js';
import { StartupError, withoutPassword } from './startup-error.js';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'CONNECT_TIMEOUT']);
const REDIS_CONNECT_TIMEOUT_MS = 3_000;

/**
 * Before anything is opened: the port is free and the database and Redis answer. Each failure
 * the user can fix becomes a StartupError of one line naming the fix, instead of stack traces
 * from deep inside start-up (or, for a taken port, after the database was opened and seeded).
 */
export async function preflight(config: Config, options: { port: boolean }): Promise<void> {
  if (options.port) await checkPort(config.http.host, config.http.port);
  if (config.db.kind === 'postgres') await checkPostgres(config.db.url, config.db.connectTimeoutS);
  if (config.redis) {
    // Cluster and Sentinel targets name several nodes, any of which may be down at a healthy
    // start; their clients find the live ones. A single Redis must answer.
    const urls = [config.redis.target, config.redis.cacheTarget].flatMap((t) =>
      t.kind === 'standalone' ? [t.url] : [],
    );
    for (const url of new Set(urls)) await checkRedis(url);
  }
}

/** The error of a listen that failed on a port in use, as a StartupError (or as it was). */
export function portFailure(err: unknown, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new StartupError(
      `port ${port} is already in use (another EduFlow, or another server). Stop that process, or set PORT, e.g. PORT=${port + 1} npm start`,
    );
  }
  if (code === 'EACCES') {
    return new StartupError(`port ${port} needs privileges this user does not have. Set PORT to 1024 or above.`);
  }
  return err;
}

async function checkPort(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err) => reject(portFailure(err, port)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

async function checkPostgres(url: string, connectTimeoutS: number): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: connectTimeoutS, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (err) {
    throw postgresFailure(err, url);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

function postgresFailure(err: unknown, url: string): unknown {
  const code = (err as { code?: string }).code;
  const u = new URL(url);
  const host = u.hostname || 'localhost';
  const port = u.port || '5432';
  const user = decodeURIComponent(u.username) || 'postgres';
  const database = decodeURIComponent(u.pathname.slice(1)) || user;
  if (code === '3D000') {
    return new StartupError(
      `database "${database}" does not exist on ${host}:${port}. Create it with: createdb -h ${host} -p ${port} -U ${user} ${database}`,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new StartupError(
      `Postgres at ${withoutPassword(url)} refused the credentials (${(err as Error).message}). Check the user and password in DATABASE_URL.`,
    );
  }
  if (code && UNREACHABLE.has(code)) {
    return new StartupError(
      `cannot reach Postgres at ${withoutPassword(url)} (${code}). Start it, or fix DATABASE_URL (unset it to use the embedded database in DATA_DIR).`,
    );
  }
  return err;
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let cause: (Error & { code?: string }) | undefined;
  redis.on('error', (err: Error) => (cause ??= err)); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    const first = cause ?? (err as Error & { code?: string });
    const message = first.message;
    const code = first.code ?? (/ETIMEDOUT|timeout/i.test(message) ? 'ETIMEDOUT' : undefined);
    if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(message)) {
      throw new StartupError(
        `Redis at ${withoutPassword(url)} refused the credentials (${message}). Check the password in the URL.`,
      );
    }
    throw new StartupError(
      `cannot reach Redis at ${withoutPassword(url)} (${code ?? message}). Start it, or fix REDIS_URL / CACHE_REDIS_URL (unset REDIS_URL to run without Redis in development).`,
    );
  } finally {
    redis.disconnect();
  }
}
