import { cpus, totalmem } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/config.js';
import { createDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logging/logger.js';

/** Creates the run's database and applies the migrations; the caller closes the handle. */
export async function createBenchDatabase(pgAdminUrl: string, run: ReturnType<typeof benchRun>) {
  const admin = postgres(pgAdminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${run.dbName}"`);
  await admin.end();
  const database = createDatabase(
    loadConfig({ DATABASE_URL: run.dbUrl, JWT_SECRET: run.secret, LOG_LEVEL: 'warn' }),
    createLogger('warn'),
  );
  await database.migrate();
  return database;
}

/** Names of one benchmark run's own database and Redis prefix, and a fresh JWT secret. */
export function benchRun(pgAdminUrl: string) {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const dbName = `eduflow_bench_${runId}`;
  const url = new URL(pgAdminUrl);
  url.pathname = `/${dbName}`;
  return {
    dbName,
    dbUrl: url.toString(),
    redisPrefix: `eduflow:bench:${runId}:`,
    secret: randomBytes(32).toString('hex'),
  };
}

/** Drops a benchmark's database and deletes its Redis keys. */
export async function dropBenchData(
  pgAdminUrl: string,
  dbName: string,
  redisUrl: string,
  redisPrefix: string,
): Promise<void> {
  const admin = postgres(pgAdminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${dbName}" with (force)`).catch(() => {});
  await admin.end();
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  for await (const keys of redis.scanStream({ match: `${redisPrefix}*` }) as AsyncIterable<string[]>)
    if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarize(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    p50: round(percentile(s, 50)),
    p95: round(percentile(s, 95)),
    p99: round(percentile(s, 99)),
    max: round(s.at(-1) ?? NaN),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a process and resolves when a line of its output matches `ready`. */
export function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    // BENCH_SERVER_LOG=<file>: everything the processes print (with BENCH_NODE_ARGS=--trace-gc, say).
    if (process.env.BENCH_SERVER_LOG) {
      const log = createWriteStream(process.env.BENCH_SERVER_LOG, { flags: 'a' });
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
    }
    child.once('exit', (code) => reject(new Error(`process exited with ${code}:\n${out}`)));
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * A minimal graphql-transport-ws client (connection_init, subscribe, next): thousands of them
 * fit in one process, and it adds nothing the bare-ws baseline does not also pay (parse, clock).
 */
export interface ProtocolClient {
  socket: WebSocket;
  /** performance.now() of each `next` received, with its payload. */
  received: Array<{ at: number; data: any }>;
}

export function connectGraphQLWs(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<ProtocolClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    const client: ProtocolClient = { socket, received: [] };
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
    );
    socket.on('message', (raw) => {
      const at = performance.now();
      const msg = JSON.parse(String(raw));
      if (msg.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        resolve(client);
      } else if (msg.type === 'next') {
        client.received.push({ at, data: msg.payload });
      } else if (msg.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (msg.type === 'error') {
        reject(new Error(JSON.stringify(msg.payload)));
      }
    });
    socket.on('error', reject);
    socket.on('close', (code) => reject(new Error(`closed ${code}`)));
  });
}

export function connectBare(url: string): Promise<ProtocolClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const client: ProtocolClient = { socket, received: [] };
    socket.on('open', () => resolve(client));
    socket.on('message', (raw) => {
      const at = performance.now();
      client.received.push({ at, data: JSON.parse(String(raw)) });
    });
    socket.on('error', reject);
  });
}

/** Runs `make` for each index, at most `parallel` at a time. */
export async function inBatches<T>(count: number, parallel: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await make(i);
      }
    }),
  );
  return out;
}

/** The machine a benchmark ran on, as every result file records it. */
export function machineInfo() {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}
