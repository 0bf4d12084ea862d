import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { EnvSchema } from '../../src/config/env.schema.js';

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const { services } = compose;

/** No Docker engine here: the compose file is checked by reading it (nginx -t runs in .ci/run). */
describe('docker-compose.yml', () => {
  it('has the services, each with a health check; the development ones only in the dev profile', () => {
    const always = Object.keys(services).filter((name) => !services[name]!.profiles);
    expect(always.sort()).toEqual(['api', 'lb', 'postgres', 'redis', 'redis-cache', 'worker']);
    const dev = Object.keys(services).filter((name) => services[name]!.profiles?.includes('dev'));
    expect(dev.sort()).toEqual(['api-dev', 'dev-database', 'mailpit']);
    for (const [name, s] of Object.entries(services)) expect(s.healthcheck?.test, name).toBeDefined();
  });

  it('can scale the api: no fixed host port on it, one load balancer in front', () => {
    expect(services.api!.ports).toBeUndefined();
    expect(services.api!.expose).toEqual(['4000']);
    expect(services.lb!.ports).toEqual(['${API_PORT:-4000}:8080']);
    expect(services.lb!.depends_on).toEqual({ api: { condition: 'service_healthy' } });
  });

  it('routes to every replica with WebSocket upgrades and skips unhealthy ones', () => {
    const [mount] = services.lb!.volumes!;
    const file = mount!.split(':')[0]!;
    expect(existsSync(file)).toBe(true);
    const conf = readFileSync(file, 'utf8');
    expect(conf).toMatch(/resolver 127\.0\.0\.11/);
    expect(conf).toMatch(/set \$api_upstream http:\/\/api:4000;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(conf).toMatch(/proxy_next_upstream error timeout http_502 http_503;/);
    expect(conf).toMatch(/proxy_set_header X-Forwarded-For/);
  });

  it("passes a client's well-formed X-Request-ID through, as the API accepts it, else nginx's own", async () => {
    const conf = readFileSync('deploy/nginx.conf', 'utf8');
    expect(conf).toMatch(/proxy_set_header X-Request-ID \$eduflow_request_id;/);
    const map =
      /map \$http_x_request_id \$eduflow_request_id \{\s*"~([^"]+)" \$http_x_request_id;\s*default \$request_id;/.exec(
        conf,
      );
    expect(map).not.toBeNull();
    const { SAFE_REQUEST_ID } = await import('../../src/http/request-id.js');
    expect(new RegExp(map![1]!).source).toBe(SAFE_REQUEST_ID.source);
  });

  it('lets NODE_ENV and the published ports be overridden, and documents them', () => {
    const header = readFileSync('docker-compose.yml', 'utf8').split('\nname:')[0]!;
    expect(services.api!.environment!.NODE_ENV).toBe('${NODE_ENV:-production}');
    expect(services.worker!.environment!.NODE_ENV).toBe('${NODE_ENV:-production}');
    expect(services.postgres!.ports).toEqual(['127.0.0.1:${POSTGRES_PORT:-5432}:5432']);
    expect(services.redis!.ports).toEqual(['127.0.0.1:${REDIS_PORT:-6379}:6379']);
    for (const name of [
      'NODE_ENV',
      'API_PORT',
      'POSTGRES_PORT',
      'REDIS_PORT',
      'MAILPIT_PORT',
      'DEV_API_PORT',
      'EXPLORER',
    ])
      expect(header, name).toContain(name);
  });

  it('dev profile: the explorer on, every email to Mailpit', () => {
    const env = services['api-dev']!.environment!;
    expect(env.EXPLORER).toBe('on');
    expect(env.SMTP_URL).toBe('smtp://mailpit:1025');
    expect(env.MAIL_TRANSPORT).toBe('smtp');
    expect(services.mailpit!.ports).toEqual(['127.0.0.1:${MAILPIT_PORT:-8025}:8025']);
    expect(services['api-dev']!.depends_on).toMatchObject({ mailpit: { condition: 'service_healthy' } });
  });

  it('passes only variables the configuration knows, including keys, proxy trust and the metrics token', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    for (const name of ['api', 'worker', 'api-dev']) {
      const env = services[name]!.environment!;
      for (const key of Object.keys(env)) expect(known.has(key), `${name}: ${key}`).toBe(true);
      if (name === 'api-dev') continue;
      for (const key of ['JWT_SECRET', 'JWT_PRIVATE_KEY', 'JWT_PREVIOUS_PUBLIC_KEY', 'METRICS_TOKEN', 'CORS_ORIGINS'])
        expect(env, `${name}: ${key}`).toHaveProperty(key);
    }
    expect(services.api!.environment!.TRUST_PROXY).toBe('${TRUST_PROXY:-uniquelocal}');
  });
});

describe('docker-compose.cluster.yml', () => {
  const cluster = parse(readFileSync('docker-compose.cluster.yml', 'utf8'), { merge: true }) as {
    services: Record<string, Service & { command?: string[] }>;
  };
  const nodes = Object.keys(cluster.services).filter((n) => n.startsWith('redis-node-'));
  /** The environment compose would give a service with both files: the override's keys win. */
  const merged = (name: string) => {
    const env = { ...services[name]!.environment!, ...cluster.services[name]!.environment! };
    // ${VAR:-default} as compose substitutes it with VAR unset.
    return Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]),
    );
  };

  it('runs six cluster nodes that never evict, joined with one replica per master', () => {
    expect(nodes).toHaveLength(6);
    for (const n of nodes) {
      const command = cluster.services[n]!.command!.join(' ');
      expect(command, n).toMatch(/--cluster-enabled yes/);
      expect(command, n).toMatch(/--maxmemory-policy noeviction/);
      expect(cluster.services[n]!.healthcheck?.test, n).toBeDefined();
    }
    const init = cluster.services['redis-cluster-init']!;
    const script = (init.command as string[]).join(' ');
    expect(script).toMatch(/--cluster create/);
    expect(script).toMatch(/--cluster-replicas 1/);
    for (const n of nodes) expect(Object.keys(init.depends_on!)).toContain(n);
  });

  it('points the api and the worker at the cluster only, with a configuration that loads', () => {
    for (const name of ['api', 'worker']) {
      expect(cluster.services[name]!.depends_on).toEqual({
        'redis-cluster-init': { condition: 'service_completed_successfully' },
      });
      const env = merged(name);
      const known = new Set(Object.keys(EnvSchema.shape));
      for (const key of Object.keys(env)) expect(known.has(key), `${name}: ${key}`).toBe(true);
      const config = loadConfig({ ...env, JWT_SECRET: 'x'.repeat(48) });
      expect(config.redis!.target).toEqual({
        kind: 'cluster',
        nodes: nodes.map((host) => ({ host, port: 6379 })),
      });
      expect(config.redis!.cacheTarget).toEqual(config.redis!.target);
      expect(config.redis!.shardedPubSub).toBe(true);
    }
  });
});
