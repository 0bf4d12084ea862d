import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../src/seed/demo-data.js';
import { databaseUrl, TEST_JWT_SECRET } from '../helpers/env.js';
import { graphqlClient } from '../helpers/graphql-client.js';
import { spawnApi } from '../helpers/spawn-api.js';

interface Exited {
  code: number | null;
  output: string;
  ms: number;
}

/** Runs an entry point that is expected to give up, and resolves with what it printed. */
function runToExit(entry: string, env: Record<string, string>, timeoutMs = 60_000): Promise<Exited> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: performance.now() - started });
    });
  });
}

/** The lines a failed start printed that are not JSON log lines. */
const plainLines = (output: string) =>
  output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('{'));

describe('start-up failures are one readable line with the fix', () => {
  it('a port in use names PORT, without opening anything', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = mkdtempSync(join(tmpdir(), 'eduflow-port-'));
    try {
      const run = await runToExit('src/main.ts', { PORT: String(port), DATA_DIR: dataDir });
      expect(run.code).toBe(1);
      expect(plainLines(run.output)).toEqual([
        `EduFlow cannot start: port ${port} is already in use (another EduFlow, or another server). Stop that process, or set PORT, e.g. PORT=${port + 1} npm start`,
      ]);
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a database that does not exist gives the createdb command', async () => {
    const url = new URL(databaseUrl('eduflow_no_such_database'));
    const run = await runToExit('src/main.ts', { DATABASE_URL: url.toString(), JWT_SECRET: TEST_JWT_SECRET });
    expect(run.code).toBe(1);
    const port = url.port || '5432';
    expect(plainLines(run.output)).toEqual([
      `EduFlow cannot start: database "eduflow_no_such_database" does not exist on ${url.hostname}:${port}. Create it with: createdb -h ${url.hostname} -p ${port} -U ${url.username || 'postgres'} eduflow_no_such_database`,
    ]);
  });

  it('an unreachable Postgres or Redis is named by its URL without the password', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const pg = await runToExit('src/main.ts', {
      DATABASE_URL: `postgres://eduflow:hunter2-secret@127.0.0.1:${deadPort}/eduflow`,
      JWT_SECRET: TEST_JWT_SECRET,
    });
    expect(pg.code).toBe(1);
    expect(plainLines(pg.output)).toEqual([
      `EduFlow cannot start: cannot reach Postgres at postgres://eduflow@127.0.0.1:${deadPort}/eduflow (ECONNREFUSED). Start it, or fix DATABASE_URL (unset it to use the embedded database in DATA_DIR).`,
    ]);

    const dataDir = mkdtempSync(join(tmpdir(), 'eduflow-redis-'));
    try {
      const redis = await runToExit('src/main.ts', {
        DATA_DIR: dataDir,
        REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${deadPort}`,
      });
      expect(redis.code).toBe(1);
      expect(plainLines(redis.output)).toEqual([
        `EduFlow cannot start: cannot reach Redis at redis://127.0.0.1:${deadPort} (ECONNREFUSED). Start it, or fix REDIS_URL / CACHE_REDIS_URL (unset REDIS_URL to run without Redis in development).`,
      ]);
      expect(pg.output + redis.output).not.toContain('hunter2');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('one process per embedded data folder', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eduflow-lock-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(
    'a second process on the same folder refuses at once, naming the folder and the first; no write is lost',
    { timeout: 300_000 },
    async () => {
      const first = await spawnApi({ DATA_DIR: dataDir });
      const gql = graphqlClient(first.url);
      let stopped = false;
      try {
        const login = await gql(
          `mutation { login(input: { email: "ada@eduflow.local", password: "${DEMO_PASSWORD}" }) { accessToken } }`,
        );
        const token = login.data.login.accessToken as string;
        const created = await gql(
          `mutation { createCourse(input: { title: "Written while locked", priceCents: 100 }) { id } }`,
          {},
          { token },
        );
        expect(created.errors).toBeUndefined();

        const lockLine = new RegExp(
          `^EduFlow cannot start: the data folder ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another EduFlow process \\(pid ${first.child.pid}, .+\\)\\. Stop that process first, or give this one its own folder`,
        );
        const second = await runToExit('src/main.ts', { DATA_DIR: dataDir });
        expect(second.code).toBe(1);
        expect(plainLines(second.output)).toHaveLength(1);
        expect(plainLines(second.output)[0]).toMatch(lockLine);
        const seed = await runToExit('src/scripts/seed.ts', { DATA_DIR: dataDir });
        expect(seed.code).toBe(1);
        expect(plainLines(seed.output)[0]).toMatch(lockLine);

        // The first process is unharmed, and what it committed survives its restart.
        expect((await gql('{ __typename }')).data).toEqual({ __typename: 'Query' });
        expect(await first.stop()).toBe(0);
        stopped = true;
        const again = await spawnApi({ DATA_DIR: dataDir });
        try {
          const found = await graphqlClient(again.url)(
            `query($id: ID!) { node(id: $id) { ... on Course { title } } }`,
            { id: created.data.createCourse.id },
            {
              token: (
                await graphqlClient(again.url)(
                  `mutation { login(input: { email: "ada@eduflow.local", password: "${DEMO_PASSWORD}" }) { accessToken } }`,
                )
              ).data.login.accessToken,
            },
          );
          expect(found.data.node).toEqual({ title: 'Written while locked' });
        } finally {
          await again.stop();
        }
      } finally {
        if (!stopped) await first.stop();
      }
    },
  );

  it('a lock left by a process that is gone is taken over', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eduflow-stale-'));
    try {
      const killed = await spawnApi({ DATA_DIR: dir });
      killed.child.kill('SIGKILL');
      await new Promise((r) => killed.child.once('exit', r));
      const next = await spawnApi({ DATA_DIR: dir });
      expect(next.url).toMatch(/^http:/);
      expect(await next.stop()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
