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
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const { services } = compose;

/** No Docker engine here: the compose file is checked by reading it (nginx -t runs in .ci/run). */
describe('docker-compose.yml', () => {
  it('has the services, each with a health check', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'lb', 'postgres', 'redis', 'redis-cache', 'worker']);
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

  it('passes only variables the configuration knows, including keys, proxy trust and the metrics token', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    for (const name of ['api', 'worker']) {
      const env = services[name]!.environment!;
      for (const key of Object.keys(env)) expect(known.has(key), `${name}: ${key}`).toBe(true);
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
