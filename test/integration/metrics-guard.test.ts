import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsAccess } from '../../src/observability/metrics-guard.js';
import { createTestDatabase, testRedisPrefix } from '../helpers/databases.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { freePort } from '../helpers/services.js';
import { spawnWorker, type RunningApi } from '../helpers/spawn-api.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const TOKEN = 'scrape-token-0123456789abcdef';

describe(metricsAccess.name, () => {
  it('does not serve metrics in production without a token, serves them elsewhere', () => {
    expect(metricsAccess({ isProduction: true, metricsToken: undefined }, undefined)).toBe(404);
    expect(metricsAccess({ isProduction: true, metricsToken: undefined }, 'Bearer anything')).toBe(404);
    expect(metricsAccess({ isProduction: false, metricsToken: undefined }, undefined)).toBe(200);
  });

  it('with a token, serves the exact bearer only (any length, any prefix of it refused)', () => {
    for (const isProduction of [true, false]) {
      const config = { isProduction, metricsToken: TOKEN };
      expect(metricsAccess(config, `Bearer ${TOKEN}`)).toBe(200);
      for (const wrong of [undefined, '', TOKEN, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `bearer ${TOKEN}`])
        expect(metricsAccess(config, wrong), String(wrong)).toBe(401);
    }
  });
});

/** The same rule in both processes that serve /metrics, as they run in production. */
describe('/metrics in production', () => {
  describe('the API', () => {
    let plain: TestApp;
    let guarded: TestApp;
    beforeAll(async () => {
      plain = await startTestApp({ NODE_ENV: 'production' });
      guarded = await startTestApp({ NODE_ENV: 'production', METRICS_TOKEN: TOKEN, DATABASE_URL: plain.databaseUrl });
    });
    afterAll(async () => {
      await guarded?.close();
      await plain?.close();
    });

    it('answers 404 without METRICS_TOKEN, 401 to a wrong bearer, metrics to the right one', async () => {
      expect((await fetch(new URL('/metrics', plain.url))).status).toBe(404);
      const get = (authorization?: string) =>
        fetch(new URL('/metrics', guarded.url), { headers: authorization ? { authorization } : {} });
      expect((await get()).status).toBe(401);
      expect((await get(`Bearer ${TOKEN}x`)).status).toBe(401);
      const ok = await get(`Bearer ${TOKEN}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/eduflow_/);
    });
  });

  describe('the worker', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    const workers: RunningApi[] = [];
    const startWorker = async (env: Record<string, string>) => {
      const port = await freePort();
      workers.push(
        await spawnWorker({
          NODE_ENV: 'production',
          MAIL_TRANSPORT: 'log',
          DATABASE_URL: database.url,
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: testRedisPrefix(),
          JWT_SECRET: TEST_JWT_SECRET,
          LOG_LEVEL: 'info',
          WORKER_METRICS_PORT: String(port),
          ...env,
        }),
      );
      return (authorization?: string) =>
        fetch(`http://127.0.0.1:${port}/metrics`, { headers: authorization ? { authorization } : {} });
    };
    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop()));
      await database?.drop();
    });

    it('answers 404 without METRICS_TOKEN', async () => {
      const get = await startWorker({});
      const res = await get();
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/eduflow_/);
      expect((await get(`Bearer ${TOKEN}`)).status).toBe(404);
    }, 120_000);

    it('answers 401 to a missing or wrong bearer, metrics to the right one', async () => {
      const get = await startWorker({ METRICS_TOKEN: TOKEN });
      expect((await get()).status).toBe(401);
      expect((await get(`Bearer ${TOKEN}x`)).status).toBe(401);
      const ok = await get(`Bearer ${TOKEN}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/eduflow_jobs_total|eduflow_queue_jobs/);
    }, 120_000);
  });
});
