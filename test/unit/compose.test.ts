import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
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
