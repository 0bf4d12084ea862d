import { Redis } from 'ioredis';
import postgres from 'postgres';
import { DEFAULT_PG_ADMIN_URL, DEFAULT_REDIS_URL, TEST_PG_ADMIN_URL, TEST_REDIS_URL } from './env.js';

// `npm test` runs this check first, alone: it must answer within a few seconds either way.
const CHECK_TIMEOUT_SECONDS = 3;

/**
 * The tests need a real PostgreSQL and Redis. When either is missing, `npm test` stops here
 * with one message saying what it needs and how to get it, instead of a wall of connection
 * errors from every test file.
 */
export async function requireServices(): Promise<void> {
  const missing = (await Promise.all([postgresProblem(), redisProblem()])).filter((p): p is string => p !== undefined);
  if (missing.length === 0) return;
  const message = [
    '',
    'npm test needs PostgreSQL (15 or later) and Redis, and cannot reach them:',
    ...missing.map((m) => `  - ${m}`),
    '',
    'Start them with Docker:',
    '  docker compose up -d postgres redis',
    '  export TEST_DATABASE_URL=postgres://eduflow:eduflow@127.0.0.1:5432/postgres',
    'or point the tests at yours:',
    '  TEST_DATABASE_URL=postgres://USER@HOST:PORT/postgres  (a role that may create databases)',
    '  TEST_REDIS_URL=redis://HOST:PORT/0',
    `Defaults: ${DEFAULT_PG_ADMIN_URL} and ${DEFAULT_REDIS_URL}.`,
    '',
  ].join('\n');
  const err = new Error(message);
  err.stack = message; // the message is the whole story; a stack trace would only hide it
  throw err;
}

async function postgresProblem(): Promise<string | undefined> {
  const sql = postgres(TEST_PG_ADMIN_URL, { max: 1, connect_timeout: CHECK_TIMEOUT_SECONDS, onnotice: () => {} });
  try {
    await sql`select 1`;
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${redact(TEST_PG_ADMIN_URL)}: ${(err as Error).message}`;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

async function redisProblem(): Promise<string | undefined> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: CHECK_TIMEOUT_SECONDS * 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause: Error | undefined;
  redis.on('error', (err: Error) => (cause ??= err)); // reported below, once
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (err) {
    return `Redis at ${redact(TEST_REDIS_URL)}: ${(cause ?? (err as Error)).message}`;
  } finally {
    redis.disconnect();
  }
}

/** Passwords in the URLs stay out of the message. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
