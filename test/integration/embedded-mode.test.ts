import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { graphqlClient } from '../helpers/graphql-client.js';

/**
 * The newcomer's path: `npm start` with no DATABASE_URL, no REDIS_URL and an empty data
 * folder boots the real entry point on embedded Postgres, loads the demo catalog and
 * answers queries; SIGTERM shuts it down cleanly; a restart keeps the data.
 */
interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function startEmbedded(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // A clean environment: nothing of the test run's services leaks in.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedded app did not start:\n${out}`)), 90_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /EduFlow GraphQL API: (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
}

function stop(r: Running): Promise<number | null> {
  return new Promise((resolve) => {
    r.child.once('exit', (code) => resolve(code));
    r.child.kill('SIGTERM');
  });
}

describe('embedded mode (npm start with no services)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'eduflow-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('boots from an empty data folder, serves the demo catalog, and stops cleanly on SIGTERM', async () => {
    const first = await startEmbedded(dataDir);
    try {
      expect(first.output()).toContain('admin@eduflow.local');
      const res = await graphqlClient(first.url)('{ courses(first: 3) { totalCount edges { node { title lessonCount instructor { displayName } } } } }');
      expect(res.errors).toBeUndefined();
      expect(res.data.courses.totalCount).toBe(14); // the published part of the 20 demo courses
      expect(res.data.courses.edges[0].node.lessonCount).toBe(10);
      const ready = await fetch(first.url.replace('/graphql', '/ready'));
      expect(ready.status).toBe(200);
    } finally {
      expect(await stop(first)).toBe(0);
    }
    expect(first.output()).toContain('shut down cleanly');
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(true);

    const second = await startEmbedded(dataDir);
    try {
      expect(second.output()).not.toContain('demo data loaded');
      const res = await graphqlClient(second.url)('{ courses { totalCount } }');
      expect(res.data.courses.totalCount).toBe(14);
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 180_000);
});
