import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe, type LiveClient } from '../helpers/ws-client.js';

const ORIGIN = 'https://app.example.test';
const METRICS_TOKEN = 'metrics-scraper-token-0123456789';

/**
 * A public endpoint under attack: deep, wide, aliased, batched, oversized and probing
 * requests, floods of subscriptions and sockets, all refused cleanly on HTTP and WebSocket,
 * with the production configuration.
 */
describe('abuse limits (production configuration)', () => {
  let t: TestApp;
  let user: UserRow;
  let token: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      NODE_ENV: 'production',
      CORS_ORIGINS: ORIGIN,
      MAX_SOCKETS_PER_IP: '4',
      MAX_SUBSCRIPTIONS_PER_USER: '2',
      COST_BUDGET_PER_MINUTE: '400',
      MAX_QUERY_COST: '300',
      // Production serves /metrics only with a token.
      METRICS_TOKEN: METRICS_TOKEN,
    });
    user = await t.make.user();
    token = await t.tokenFor(user);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await t?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (res: Response) =>
    (await res.json()) as {
      data?: unknown;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
      extensions?: Record<string, any>;
    };
  const connect = (params?: Record<string, unknown>, headers?: Record<string, string>) => {
    const c = liveClient(t.url, params, headers);
    clients.push(c);
    return c;
  };
  /** The HTTP status of a WebSocket upgrade (101 when it was accepted). */
  const upgradeStatus = (headers: Record<string, string> = {}) =>
    new Promise<number>((resolve) => {
      const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
      socket.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('open', () => {
        resolve(101);
        socket.terminate();
      });
      socket.on('error', () => {});
    });
  const deep = `{ courses { edges { node { lessons { edges { node { course { lessons { edges { node { course { lessons { edges { node { id } } } } } } } } } } } } } } }`;
  const aliased = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
  const wide = `{ courses(first: 100) { edges { node { lessons(first: 100) { edges { node { id title } } } } } } }`;

  describe('HTTP', () => {
    it.each([
      ['too deep', deep, /depth/i],
      ['too many aliases', aliased, /aliases/i],
      ['too costly (connection sizes multiply)', wide, /cost \d+ exceeds the maximum of 300/i],
    ])('refuses a query that is %s, naming the limit', async (_what, query, message) => {
      const res = await post({ query });
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors?.[0]?.message).toMatch(message);
    });

    it('refuses a query whose cost cannot be estimated, and prices nodes(ids:) by how many', async () => {
      const trick = await post({
        query: `query Q($v: ID = "x") { node(id: $v) { id } courses(first: 100) { edges { node { lessons(first: 100) { edges { node { id title } } } } } } }`,
        variables: { v: null },
      });
      expect(trick.status).toBe(400);
      expect((await json(trick)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const ids = Array.from(
        { length: 100 },
        (_, i) => `Q291cnNlOjAwMDAwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDA${String(i).padStart(2, '0')}`,
      );
      const many = await post({
        query: `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Course { lessons(first: 10) { edges { node { id } } } } } }`,
        variables: { ids },
      });
      expect(many.status).toBe(400);
      expect((await json(many)).errors?.[0]?.message).toMatch(/cost \d+ exceeds/);
    });

    it('answers a null smuggled into a non-null argument with a 400, not a 500', async () => {
      const res = await post({ query: `query Q($id: ID = "x") { course(id: $id) { id } }`, variables: { id: null } });
      expect(res.status).toBe(400);
      expect((await json(res)).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('refuses batched (array) requests and oversized bodies', async () => {
      expect((await post([{ query: '{ me { id } }' }, { query: '{ me { id } }' }])).status).toBe(400);
      const huge = await post({ query: `{ me { id } } # ${'x'.repeat(200 * 1024)}` });
      expect(huge.status).toBe(413);
      expect((await json(huge)).errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    });

    it('keeps the schema to itself: no introspection, no field suggestions', async () => {
      const intro = await json(await post({ query: '{ __schema { types { name } } }' }));
      expect(intro.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const probe = await json(await post({ query: '{ coures { id } }' }));
      expect(probe.errors?.[0]?.message).toMatch(/Cannot query field "coures"/);
      expect(probe.errors?.[0]?.message).not.toMatch(/Did you mean/);
      expect(JSON.stringify(probe)).not.toMatch(/stacktrace|\.ts:\d+/);
    });

    it('refuses CSRF-style requests and mutations over GET', async () => {
      const simpleForm = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{"query":"{ me { id } }"}',
      });
      expect(simpleForm.status).toBe(400);
      const getWithoutPreflight = await fetch(`${t.url}?query=${encodeURIComponent('{ me { id } }')}`);
      expect(getWithoutPreflight.status).toBe(400);
      const getMutation = await fetch(
        `${t.url}?query=${encodeURIComponent('mutation { logout(input: { refreshToken: "x" }) }')}`,
        {
          headers: { 'apollo-require-preflight': 'true' },
        },
      );
      expect(getMutation.status).toBe(405);
    });

    it('sends security headers, and CORS only to listed origins', async () => {
      const allowed = await fetch(t.url, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      });
      expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await fetch(t.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const res = await post({ query: '{ me { id } }' });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    });

    it('spends a per-minute cost budget, reports it, and answers RATE_LIMITED with Retry-After when it is gone', async () => {
      const q = { query: `{ courses(first: 50) { edges { node { id title } } } }` };
      const first = await json(await post(q, { authorization: `Bearer ${token}` }));
      const cost = first.extensions?.cost;
      expect(cost).toMatchObject({ limit: 400 });
      expect(cost.requested).toBeGreaterThan(50);
      expect(cost.remaining).toBe(400 - cost.requested);
      let limited: Response | undefined;
      for (let i = 0; i < 10 && !limited; i++) {
        const res = await post(q, { authorization: `Bearer ${token}` });
        if (res.status === 429) limited = res;
      }
      expect(limited).toBeDefined();
      expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = await json(limited!);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
      // Another caller (anonymous, by address) has a budget of its own.
      expect((await post({ query: '{ me { id } }' })).status).toBe(200);
    });
  });

  describe('WebSocket', () => {
    it('applies the same query limits', async () => {
      const c = connect();
      for (const query of [deep, aliased, wide, '{ __schema { types { name } } }']) {
        const sub = subscribe(c, query);
        const outcome = await Promise.race([sub.ended, sub.next(3_000)]);
        expect(JSON.stringify(outcome)).toContain('GRAPHQL_VALIDATION_FAILED');
      }
    });

    it('refuses a socket from an origin that is not allowed', async () => {
      expect(await upgradeStatus({ origin: 'https://evil.example' })).toBe(403);
    });

    it('caps subscriptions per user', async () => {
      const c = connect({ authorization: `Bearer ${token}` });
      await c.connected;
      const q = `subscription { notificationAdded { id } }`;
      subscribe(c, q);
      subscribe(c, q);
      const third = subscribe(c, q);
      const outcome = await Promise.race([third.ended, third.next(3_000)]);
      expect(JSON.stringify(outcome)).toContain('RATE_LIMITED');
    });

    it('does not leak a subscription when its id is reused while it is being checked', async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      clients.length = 0;
      await vi.waitFor(
        async () => {
          const n = t.app.ws.connections;
          expect(n).toBe(0);
          return n;
        },
        { timeout: 5_000, interval: 50 },
      );
      const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((r) => socket.once('open', r));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      await new Promise((r) => socket.once('message', r)); // connection_ack
      const sub = { type: 'subscribe', id: '1', payload: { query: 'subscription { notificationAdded { id } }' } };
      socket.send(JSON.stringify(sub));
      socket.send(JSON.stringify({ type: 'complete', id: '1' }));
      socket.send(JSON.stringify(sub));
      await new Promise((r) => setTimeout(r, 300));
      socket.close();
      await vi.waitFor(
        async () => {
          const n = t.app.ws.connections;
          expect(n).toBe(0);
          return n;
        },
        { timeout: 5_000, interval: 50 },
      );
      expect(t.app.ws.subscriptions).toBe(0);
    });

    it('caps sockets per client address', async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      clients.length = 0;
      const open = Array.from({ length: 4 }, () => connect());
      await Promise.all(open.map((c) => c.connected));
      expect(await upgradeStatus()).toBe(429);
    });

    it('closes a socket that never sends connection_init (slow loris)', async () => {
      await Promise.all(clients.map((c) => c.dispose()));
      clients.length = 0;
      await vi.waitFor(
        async () => {
          const n = t.app.ws.connections;
          expect(n).toBe(0);
          return n;
        },
        { timeout: 5_000, interval: 50 },
      ); // the cap above is per address
      const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      socket.on('error', () => {});
      const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)));
      expect(code).toBe(4408);
    });
  });

  it('counts all of it in /metrics', async () => {
    const res = await fetch(new URL('/metrics', t.url), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/eduflow_graphql_errors_total\{code="GRAPHQL_VALIDATION_FAILED"\} [1-9]/);
    expect(text).toMatch(/eduflow_graphql_errors_total\{code="RATE_LIMITED"\} [1-9]/);
    expect(text).toMatch(
      /eduflow_graphql_operation_duration_seconds_count\{operation="anonymous",type="query"\} [1-9]/,
    );
    expect(text).toMatch(
      /eduflow_http_request_duration_seconds_count\{method="POST",path="\/graphql",status="413"\} 1/,
    );
    expect(text).toMatch(/eduflow_ws_connections \d+/);
    expect(text).toMatch(/eduflow_response_cache_events\{outcome="miss"\} \d+/);
    expect(text).toMatch(/eduflow_db_statements_total [1-9]/);
    expect(text).toMatch(/eduflow_process_resident_memory_bytes/);
  });
});
