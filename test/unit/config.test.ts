import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const SECRET = 'x'.repeat(32);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe(loadConfig.name, () => {
  it('defaults to the embedded mode with no environment at all', () => {
    const config = loadConfig({});
    expect(config.db.kind).toBe('pglite');
    expect(config.redis).toBeUndefined();
    expect(config.http.port).toBe(4000);
    expect(config.seedDemoData).toBe(true);
    expect(config.graphql.introspection).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
  });

  it('uses Postgres and Redis when their URLs are set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379', JWT_SECRET: SECRET });
    expect(config.db).toMatchObject({
      kind: 'postgres',
      url: 'postgres://u@h/db',
      poolMax: 10,
      statementTimeoutMs: 5000,
    });
    expect(config.redis).toMatchObject({ target: { kind: 'standalone', url: 'redis://h:6379' } });
    expect(config.seedDemoData).toBe(false);
  });

  it('takes a dead worker’s job over within 30 s by default (lock expiry plus one stalled check)', () => {
    const { jobs } = loadConfig({ DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379', JWT_SECRET: SECRET });
    // BullMQ moves an active job back to waiting at the first stalled check after its lock ran out.
    expect(jobs.lockDurationMs + jobs.stalledIntervalMs).toBeLessThanOrEqual(30_000);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', DB_POOL_MAX: '0' });
    expect(problems.join('\n')).toMatch(/PORT/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL/);
    expect(problems.join('\n')).toMatch(/DB_POOL_MAX/);
  });

  it('refuses production without a JWT secret, or with a weak one', () => {
    expect(problemsOf({ NODE_ENV: 'production' }).join()).toMatch(/JWT_SECRET: required/);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'short' }).join()).toMatch(
      /JWT_SECRET: must be at least 32 bytes/,
    );
    expect(problemsOf({ DATABASE_URL: 'postgres://h/db' }).join()).toMatch(/JWT_SECRET: required/);
  });

  it('turns introspection and the landing page off in production, unless overridden', () => {
    const prod = loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, MAIL_TRANSPORT: 'log' });
    expect(prod.graphql).toMatchObject({ introspection: false, landingPage: false });
    expect(prod.http.corsOrigins).toEqual([]);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: SECRET, MAIL_TRANSPORT: 'log', GRAPHQL_INTROSPECTION: 'true' })
        .graphql.introspection,
    ).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '' }).db.kind).toBe('pglite');
  });

  it('requires ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    expect(problemsOf({ ADMIN_EMAIL: 'a@b.test' }).join()).toMatch(/ADMIN_EMAIL \/ ADMIN_PASSWORD/);
  });

  it('parses CORS_ORIGINS as a comma-separated list', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.test, https://b.test' }).http.corsOrigins).toEqual([
      'https://a.test',
      'https://b.test',
    ]);
  });
});

describe('JWT key configuration', () => {
  it('accepts a PEM private key instead of a secret, and names a broken one', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const config = loadConfig({
      NODE_ENV: 'production',
      MAIL_TRANSPORT: 'log',
      JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
    });
    expect(config.auth.jwtPrivateKey).toBe(pem);
    expect(problemsOf({ NODE_ENV: 'production', JWT_PRIVATE_KEY: 'not a key' }).join()).toMatch(
      /JWT_PRIVATE_KEY: not a usable PEM key/,
    );
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['1', 1],
    ['loopback', 'loopback'],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('reads %j as Express does', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).http.trustProxy).toEqual(expected);
  });
});

describe('notifications, cache and limits', () => {
  it('reports a bad cron pattern and a bad SMTP URL by name', () => {
    const problems = problemsOf({ ACTIVITY_REPORT_CRON: 'every day', SMTP_URL: 'http://mail' }).join('\n');
    expect(problems).toMatch(/SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
    const cron = problemsOf({ ACTIVITY_REPORT_CRON: 'every day' }).join('\n');
    expect(cron).toMatch(/ACTIVITY_REPORT_CRON: not a cron pattern/);
  });

  it('puts volatile data on CACHE_REDIS_URL, and the queue on REDIS_URL', () => {
    const both = loadConfig({ REDIS_URL: 'redis://q:6379', CACHE_REDIS_URL: 'redis://c:6379' }).redis!;
    expect([both.target, both.cacheTarget]).toEqual([
      { kind: 'standalone', url: 'redis://q:6379' },
      { kind: 'standalone', url: 'redis://c:6379' },
    ]);
    expect(loadConfig({ REDIS_URL: 'redis://q:6379' }).redis!.cacheTarget).toEqual({
      kind: 'standalone',
      url: 'redis://q:6379',
    });
  });

  it('requires the operation timeout to outlast the statement timeout', () => {
    const env = { DATABASE_URL: 'postgres://u@h/db', JWT_SECRET: 'x'.repeat(40) };
    expect(problemsOf({ ...env, OPERATION_TIMEOUT_MS: '3000', DB_STATEMENT_TIMEOUT_MS: '5000' }).join()).toMatch(
      /OPERATION_TIMEOUT_MS: must be longer/,
    );
    expect(problemsOf({ ...env, OPERATION_TIMEOUT_MS: '6000', DB_STATEMENT_TIMEOUT_MS: '5000' })).toEqual([]);
  });

  it('checks revocations by default, and refuses to turn the check off in production', () => {
    expect(loadConfig({}).auth.revocationCheck).toBe(true);
    expect(loadConfig({}).auth.revocationRefreshMs).toBe(1_000);
    expect(loadConfig({ REVOCATION_CHECK: 'false' }).auth.revocationCheck).toBe(false);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: SECRET, REVOCATION_CHECK: 'false' }).join()).toMatch(
      /REVOCATION_CHECK: cannot be off in production/,
    );
  });

  it('runs workers in the API process unless NOTIFICATION_WORKER=off', () => {
    expect(loadConfig({}).notifications.workerInProcess).toBe(true);
    expect(loadConfig({ NOTIFICATION_WORKER: 'off' }).notifications.workerInProcess).toBe(false);
  });
});

describe('Redis topologies', () => {
  it('reads a cluster from its seed nodes, and a cache cluster beside a queue Redis', () => {
    const r = loadConfig({
      REDIS_CLUSTER_NODES: 'a:7000, b:7001',
      CACHE_REDIS_CLUSTER_NODES: 'c:7002',
      REDIS_SHARDED_PUBSUB: 'true',
    }).redis!;
    expect(r.target).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
      ],
    });
    expect(r.cacheTarget).toEqual({ kind: 'cluster', nodes: [{ host: 'c', port: 7002 }] });
    expect(r.shardedPubSub).toBe(true);
  });

  it('reads Sentinels with the master name, and the password and TLS for them', () => {
    const r = loadConfig({
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'eduflow',
      REDIS_PASSWORD: 'pw',
      REDIS_TLS: 'true',
    }).redis!;
    expect(r.target).toEqual({
      kind: 'sentinel',
      name: 'eduflow',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
    expect(r.cacheTarget).toEqual(r.target);
    expect([r.password, r.tls, r.shardedPubSub]).toEqual(['pw', true, false]);
  });

  it('refuses two descriptions of the same Redis, naming both', () => {
    expect(problemsOf({ REDIS_URL: 'redis://h:6379', REDIS_CLUSTER_NODES: 'a:7000' }).join()).toMatch(
      /REDIS_URL \/ REDIS_CLUSTER_NODES: set only one/,
    );
    expect(
      problemsOf({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }).join(),
    ).toMatch(/REDIS_CLUSTER_NODES \/ REDIS_SENTINELS: set only one/);
    expect(
      problemsOf({ REDIS_URL: 'redis://h', CACHE_REDIS_URL: 'redis://c', CACHE_REDIS_CLUSTER_NODES: 'a:1' }).join(),
    ).toMatch(/CACHE_REDIS_URL \/ CACHE_REDIS_CLUSTER_NODES: set only one/);
  });

  it('names what is missing or malformed', () => {
    expect(problemsOf({ REDIS_SENTINELS: 's:26379' }).join()).toMatch(/REDIS_SENTINEL_NAME: required/);
    expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_SENTINEL_NAME: 'm' }).join()).toMatch(
      /REDIS_SENTINEL_NAME: only meaningful with REDIS_SENTINELS/,
    );
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:7000,b' }).join()).toMatch(/REDIS_CLUSTER_NODES.*host:port/);
    expect(problemsOf({ REDIS_URL: 'redis://h', REDIS_SHARDED_PUBSUB: 'true' }).join()).toMatch(
      /REDIS_SHARDED_PUBSUB: sharded pub\/sub needs a Redis Cluster/,
    );
    expect(problemsOf({ CACHE_REDIS_CLUSTER_NODES: 'a:7000' }).join()).toMatch(/need REDIS_URL/);
    expect(problemsOf({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_KEY_PREFIX: '{app}:' }).join()).toMatch(
      /REDIS_KEY_PREFIX: must not contain/,
    );
  });

  it('reads replica URLs with their tuning defaults, and refuses them without a primary or malformed', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@h/db',
      DATABASE_REPLICA_URLS: 'postgres://r@r1/db, postgresql://r@r2:5433/db',
      JWT_SECRET: SECRET,
    });
    expect(config.db).toMatchObject({
      replicas: {
        urls: ['postgres://r@r1/db', 'postgresql://r@r2:5433/db'],
        maxLagSeconds: 10,
        stickySeconds: 30,
        healthCheckMs: 1000,
      },
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', JWT_SECRET: SECRET }).db).not.toHaveProperty('replicas');
    expect(problemsOf({ DATABASE_REPLICA_URLS: 'postgres://r@r1/db' }).join()).toMatch(
      /DATABASE_REPLICA_URLS: needs DATABASE_URL/,
    );
    expect(problemsOf({ DATABASE_URL: 'postgres://u@h/db', DATABASE_REPLICA_URLS: 'mysql://r' }).join()).toMatch(
      /DATABASE_REPLICA_URLS.*postgres:\/\//,
    );
  });
});
