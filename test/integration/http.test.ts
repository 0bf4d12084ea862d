import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_JWT_SECRET } from '../helpers/env.js';
import { codesOf, graphqlClient } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { TokenService } from '../../src/auth/tokens.js';

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('HTTP surface', () => {
  let t: TestApp;
  const logLines: any[] = [];
  let base: string;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    t = await startTestApp(
      { MAX_QUERY_DEPTH: '7', MAX_ALIASES: '5', MAX_TOKENS: '400', MAX_QUERY_COST: '2000', BODY_LIMIT_BYTES: '4096' },
      { log: pino({ level: 'info' }, sink) },
    );
    base = t.url.replace(/\/graphql$/, '');
  });
  afterAll(() => t?.close());

  describe('operations endpoints', () => {
    it('GET /health says the process is alive', async () => {
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(200);
      expect((await res.json()) as any).toMatchObject({ status: 'ok' });
    });

    it('GET /ready checks the database and Redis', async () => {
      const res = await fetch(`${base}/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    });

    it('answers unknown paths with a JSON 404', async () => {
      const res = await fetch(`${base}/nope`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).errors[0].extensions.code).toBe('NOT_FOUND');
    });
  });

  describe('request ids and logs', () => {
    it('echoes a client X-Request-ID and logs the request under it', async () => {
      const student = await t.make.user();
      const token = await t.tokenFor(student);
      const res = await post(t.url, JSON.stringify({ query: 'query Probe { me { id } }' }), {
        'x-request-id': 'probe-123',
        authorization: `Bearer ${token}`,
      });
      expect(res.headers.get('x-request-id')).toBe('probe-123');
      const line = logLines.find((l) => l.requestId === 'probe-123' && l.msg === 'graphql request');
      expect(line).toMatchObject({ operationName: 'Probe', operationType: 'query', userId: student.id, status: 200 });
      expect(line.cost).toBeGreaterThan(0);
      expect(typeof line.durationMs).toBe('number');
      expect(line.dbQueries).toBeGreaterThanOrEqual(1);
    });

    it('generates a request id when none (or a malformed one) is sent', async () => {
      const res = await post(t.url, JSON.stringify({ query: '{ me { id } }' }), {
        'x-request-id': 'bad id with spaces',
      });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('never logs email addresses or passwords', async () => {
      const email = `secret-person-${Date.now()}@example.test`;
      await post(
        t.url,
        JSON.stringify({
          query: 'mutation($e: String!) { login(input: { email: $e, password: "hunter2-hunter2" }) { accessToken } }',
          variables: { e: email },
        }),
      );
      await post(
        t.url,
        JSON.stringify({
          query:
            'mutation($e: String!) { register(input: { email: $e, password: "x", displayName: "X" }) { accessToken } }',
          variables: { e: email },
        }),
      );
      const all = JSON.stringify(logLines);
      expect(all).not.toContain(email);
      expect(all).not.toContain('hunter2-hunter2');
    });

    it('never logs bearer tokens', async () => {
      await post(t.url, JSON.stringify({ query: '{ me { id } }' }), { authorization: 'Bearer not.a.token' });
      expect(JSON.stringify(logLines)).not.toContain('not.a.token');
    });
  });

  describe('bad requests get a 4xx and a JSON error, never a 500 or a stack', () => {
    it('rejects malformed JSON with 400', async () => {
      const res = await post(t.url, '{"query": ');
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
      });
    });

    it('rejects a body over the size limit with 413', async () => {
      const res = await post(t.url, JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(5000)}` }));
      expect(res.status).toBe(413);
      expect(((await res.json()) as any).errors[0].message).toMatch(/larger than 4096 bytes/);
    });

    it('rejects a syntax error with 400 GRAPHQL_PARSE_FAILED', async () => {
      const res = await t.gql('{ courses { ');
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['GRAPHQL_PARSE_FAILED']);
    });

    it('rejects an unknown field with 400 GRAPHQL_VALIDATION_FAILED', async () => {
      const res = await t.gql('{ courses { nope } }');
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    });

    it('rejects a variable of the wrong type with 400 BAD_USER_INPUT', async () => {
      const res = await t.gql('query($n: Int) { courses(first: $n) { totalCount } }', { n: 'ten' });
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    });

    it('refuses GET queries without a CSRF-safe header', async () => {
      const res = await fetch(`${t.url}?query=${encodeURIComponent('{ me { id } }')}`);
      expect(res.status).toBe(400);
    });

    it('never includes stack traces in errors', async () => {
      const res = await t.gql('{ courses(first: 1000) { totalCount } }');
      expect(JSON.stringify(res.errors)).not.toMatch(/stacktrace|\.ts:\d+/);
    });
  });

  describe('query limits', () => {
    it('rejects queries deeper than MAX_QUERY_DEPTH', async () => {
      const res = await t.gql(
        '{ courses { edges { node { instructor { coursesTaught { edges { node { title } } } } } } } }',
      );
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(res.errors![0]!.message).toMatch(/depth/i);
    });

    it('rejects too many aliases', async () => {
      const res = await t.gql(`{ ${Array.from({ length: 6 }, (_, i) => `a${i}: me { id }`).join(' ')} }`);
      expect(res.status).toBe(400);
      expect(res.errors![0]!.message).toMatch(/aliases/i);
    });

    it('rejects documents with too many tokens', async () => {
      const res = await t.gql(`{ me { ${'id '.repeat(400)} } }`);
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['GRAPHQL_PARSE_FAILED']);
    });

    it('rejects queries whose cost (page sizes multiplied through) is over MAX_QUERY_COST', async () => {
      const res = await t.gql(
        'query($n: Int) { courses(first: $n) { edges { node { lessons(first: 50) { edges { node { title } } } } } } }',
        { n: 100 },
      );
      expect(res.status).toBe(400);
      expect(codesOf(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(res.errors![0]!.message).toMatch(/cost \d+ exceeds the maximum of 2000/);
      const cheap = await t.gql(
        'query($n: Int) { courses(first: $n) { edges { node { lessons(first: 5) { edges { node { title } } } } } } }',
        { n: 10 },
      );
      expect(cheap.errors).toBeUndefined();
    });
  });

  describe('bearer tokens', () => {
    const subject = () => ({ userId: crypto.randomUUID(), role: 'ADMIN' as const, sessionId: crypto.randomUUID() });
    const settings = { secret: TEST_JWT_SECRET, issuer: 'eduflow', audience: 'eduflow-api', accessTokenTtlSeconds: 60 };
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged: Record<string, () => Promise<string>> = {
      OTHER_KEY: async () =>
        (
          await new TokenService({
            ...settings,
            secret: 'another-secret-another-secret-another-secret',
          }).signAccessToken(subject())
        ).token,
      WRONG_AUDIENCE: async () =>
        (await new TokenService({ ...settings, audience: 'someone-else' }).signAccessToken(subject())).token,
      ALG_NONE: async () => {
        const now = Math.floor(Date.now() / 1000);
        const s = subject();
        return `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ sub: s.userId, role: 'ADMIN', sid: s.sessionId, iss: 'eduflow', aud: 'eduflow-api', iat: now, exp: now + 60 })}.`;
      },
      TAMPERED: async () => {
        const [h, , sig] = (
          await new TokenService(settings).signAccessToken({ ...subject(), role: 'STUDENT' })
        ).token.split('.');
        const now = Math.floor(Date.now() / 1000);
        return `${h}.${b64({ sub: crypto.randomUUID(), role: 'ADMIN', sid: 'x', iss: 'eduflow', aud: 'eduflow-api', iat: now, exp: now + 60 })}.${sig}`;
      },
    };

    it.each([
      ['garbage', 'Bearer garbage'],
      ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
      ['a token signed with another key', 'OTHER_KEY'],
      ['a token for another audience', 'WRONG_AUDIENCE'],
      ['an unsigned token (alg: none)', 'ALG_NONE'],
      ['a token whose claims were edited', 'TAMPERED'],
    ])('answers 401 UNAUTHENTICATED for %s, never anonymous', async (_name, header) => {
      const authorization = forged[header] ? `Bearer ${await forged[header]()}` : header;
      const res = await graphqlClient(t.url)('{ me { id } }', {}, { headers: { authorization } });
      expect(res.status).toBe(401);
      expect(codesOf(res)).toEqual(['UNAUTHENTICATED']);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    });

    it('says TOKEN_EXPIRED for an expired token', async () => {
      const tokens = new TokenService({
        secret: TEST_JWT_SECRET,
        issuer: 'eduflow',
        audience: 'eduflow-api',
        accessTokenTtlSeconds: 60,
      });
      const { token } = await tokens.signAccessToken(
        { userId: crypto.randomUUID(), role: 'STUDENT', sessionId: crypto.randomUUID() },
        new Date(Date.now() - 3600_000),
      );
      const res = await t.gql('{ me { id } }', {}, { token });
      expect(res.status).toBe(401);
      expect(res.errors![0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    });
  });

  describe('CORS', () => {
    it('allows localhost origins outside production', async () => {
      const res = await fetch(t.url, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    });

    it('does not allow other origins', async () => {
      const res = await fetch(t.url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('landing page and introspection', () => {
    it('serves Apollo Sandbox outside production', async () => {
      // At /sandbox: /graphql serves the offline explorer (explorer.test.ts).
      const res = await fetch(new URL('/sandbox', t.url), { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('embeddable-sandbox');
      expect(html).toContain('EmbeddedSandbox');
    });

    it('allows introspection outside production', async () => {
      const res = await t.gql('{ __schema { queryType { name } } }');
      expect(res.data.__schema.queryType.name).toBe('Query');
    });

    it('in production: no Sandbox, no introspection, CORS only for CORS_ORIGINS', async () => {
      const prod = await startTestApp({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example' });
      try {
        const page = await fetch(prod.url, { headers: { accept: 'text/html' } });
        expect(await page.text()).not.toContain('embeddable-sandbox');
        const intro = await prod.gql('{ __schema { queryType { name } } }');
        expect(codesOf(intro)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
        const allowed = await fetch(prod.url, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
        });
        expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
        const local = await fetch(prod.url, {
          method: 'OPTIONS',
          headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
        });
        expect(local.headers.get('access-control-allow-origin')).toBeNull();
      } finally {
        await prod.close();
      }
    });

    it('lets GRAPHQL_INTROSPECTION=true override production', async () => {
      const prod = await startTestApp({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' });
      try {
        const intro = await prod.gql('{ __schema { queryType { name } } }');
        expect(intro.data.__schema.queryType.name).toBe('Query');
      } finally {
        await prod.close();
      }
    });
  });
});
