import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/services.js';

/** `npm test` on a machine without Postgres or Redis: one clear message, not a wall of errors. */
describe('npm test without its services', () => {
  it('stops at once, saying what it needs and how to get it', async () => {
    const [pg, redis] = [await freePort(), await freePort()]; // nothing listens there
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      execFile(
        'npx',
        // An integration test: unit tests (`npm run test:unit`) need no services and do not stop.
        ['vitest', 'run', 'test/integration/schema.test.ts'],
        {
          env: {
            ...process.env,
            TEST_DATABASE_URL: `postgres://postgres@127.0.0.1:${pg}/postgres`,
            TEST_REDIS_URL: `redis://127.0.0.1:${redis}/0`,
            NO_COLOR: '1',
            FORCE_COLOR: '0',
          },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr }),
      );
    });
    expect(out.code).not.toBe(0);
    expect(out.text).toContain('npm test needs PostgreSQL (15 or later) and Redis, and cannot reach them');
    expect(out.text).toContain(`PostgreSQL at postgres://postgres@127.0.0.1:${pg}/postgres: connect ECONNREFUSED`);
    expect(out.text).toContain(`Redis at redis://127.0.0.1:${redis}/0: connect ECONNREFUSED`);
    expect(out.text).toContain('docker compose up -d postgres redis');
    expect(out.text).toContain('TEST_DATABASE_URL');
    // One message: each refusal is reported once, with no stack trace.
    expect(out.text.match(/ECONNREFUSED/g)).toHaveLength(2);
    expect(out.text).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('is the first thing `npm test` does: one message, before lint, the type-check or vitest', async () => {
    const [pg, redis] = [await freePort(), await freePort()];
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      execFile(
        'npm',
        ['test', '--silent'],
        {
          env: {
            ...process.env,
            TEST_DATABASE_URL: `postgres://postgres@127.0.0.1:${pg}/postgres`,
            TEST_REDIS_URL: `redis://127.0.0.1:${redis}/0`,
            NO_COLOR: '1',
            FORCE_COLOR: '0',
          },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr }),
      );
    });
    expect(out.code).not.toBe(0);
    const lines = out.text.split('\n').filter((l) => l.trim());
    expect(lines[0]).toBe('npm test needs PostgreSQL (15 or later) and Redis, and cannot reach them:');
    expect(out.text).not.toMatch(/eslint|prettier|No test files|vitest|tsc/i);
    // The defaults are the defaults, whatever this run overrides.
    expect(out.text).toContain('Defaults: postgres://postgres@127.0.0.1:5432/postgres and redis://127.0.0.1:6379/0.');
  }, 90_000);
});
