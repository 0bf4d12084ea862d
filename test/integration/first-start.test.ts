import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { spawnApi } from '../helpers/spawn-api.js';

/** What a newcomer sees on `npm start` with no configuration: progress, then readable logs. */
describe('the first start', () => {
  it('reports each step, in readable lines when asked for (a terminal gets them by default)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'eduflow-first-start-'));
    try {
      const api = await spawnApi({ DATA_DIR: dataDir, LOG_FORMAT: 'pretty', NO_COLOR: '1' });
      const out = api.output();
      expect(await api.stop()).toBe(0);
      const steps = [
        `starting: opening the embedded database in ${dataDir} and applying migrations (the first start creates it)…`,
        'starting: loading the demo catalog…',
        'starting: building the schema and connecting services…',
        'ready: EduFlow API listening',
      ];
      let at = -1;
      for (const step of steps) {
        const next = out.indexOf(step, at + 1);
        expect(next, `"${step}" after the previous step in:\n${out}`).toBeGreaterThan(at);
        at = next;
      }
      // pino-pretty lines ("[HH:MM:SS] INFO: message"), not JSON objects.
      expect(out).toMatch(/^\[\d\d:\d\d:\d\d\] INFO.*: ready: EduFlow API listening/m);
      expect(out).not.toMatch(/^\{"level"/m);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('logs JSON lines in production, and when stdout is not a terminal', () => {
    const base = { DATABASE_URL: 'postgres://x@127.0.0.1/x', JWT_SECRET: 'x'.repeat(40), MAIL_TRANSPORT: 'log' };
    expect(loadConfig({ ...base, NODE_ENV: 'production' }).logFormat).toBe('json');
    expect(loadConfig({ ...base, NODE_ENV: 'production', LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ ...base, LOG_FORMAT: 'json' }).logFormat).toBe('json');
    // Under vitest stdout is a pipe, as under a process manager.
    expect(loadConfig({ ...base, NODE_ENV: 'development' }).logFormat).toBe(process.stdout.isTTY ? 'pretty' : 'json');
  });
});
