import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The JSON API's response headers (src/http/security-headers.ts): OWASP's REST set on every
 * API answer, whichever path writes it (the node:http hot path, an early cache hit, Express),
 * and helmet's HTML set only on the explorer's and /sandbox's pages.
 */
describe('API response headers', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    // No cost report in the body (it varies); loopback is a trusted proxy (X-Forwarded-Proto).
    t = await startTestApp({ COST_BUDGET_PER_MINUTE: '0', TRUST_PROXY: 'loopback' });
    port = Number(new URL(t.url).port);
  });
  afterAll(() => t?.close());

  /** One raw HTTP/1.1 exchange: the exact bytes on the wire (head and body). */
  const raw = (request: string) =>
    new Promise<{ head: string; body: string; bytes: number }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(request));
      let out = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        out = Buffer.concat([out, chunk]);
        const end = out.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = out.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
        if (out.length < end + 4 + length) return;
        socket.destroy();
        resolve({ head, body: out.subarray(end + 4).toString('utf8'), bytes: out.length });
      });
    });
  const post = (body: string, headers = '') =>
    raw(
      `POST /graphql HTTP/1.1\r\nHost: api.example\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`,
    );
  const headersOf = (head: string) =>
    new Map(
      head
        .split('\r\n')
        .slice(1)
        .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );

  const TYPENAME = '{"query":"{ __typename }"}';

  it('answers { __typename } with exactly the API set, in at most 400 bytes with its headers', async () => {
    const res = await post(TYPENAME);
    expect(res.body).toBe('{"data":{"__typename":"Query"}}\n');
    const headers = headersOf(res.head);
    expect(res.head.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect([...headers.keys()].sort()).toEqual(
      [
        'cache-control',
        'content-length',
        'content-security-policy',
        'content-type',
        'date',
        'vary',
        'x-cache',
        'x-content-type-options',
        'x-frame-options',
        'x-request-id',
      ].sort(),
    );
    expect(Object.fromEntries(headers)).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      vary: 'Accept, Authorization, Origin',
    });
    expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.bytes).toBeLessThanOrEqual(400);
  });

  it('sends HSTS only when the client came over TLS (through a trusted proxy here), never over plain HTTP', async () => {
    const plain = headersOf((await post(TYPENAME)).head);
    expect(plain.has('strict-transport-security')).toBe(false);
    const tls = headersOf((await post(TYPENAME, 'X-Forwarded-Proto: https\r\n')).head);
    expect(tls.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const http = headersOf((await post(TYPENAME, 'X-Forwarded-Proto: http, https\r\n')).head);
    expect(http.has('strict-transport-security')).toBe(false);
    // Express's paths decide the same way.
    const health = headersOf(
      (await raw('GET /health HTTP/1.1\r\nHost: api.example\r\nX-Forwarded-Proto: https\r\n\r\n')).head,
    );
    expect(health.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });

  it('keeps a connection open for the next request, and closes it when the client asks', async () => {
    const twice = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        const one = `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${TYPENAME.length}\r\n\r\n${TYPENAME}`;
        socket.write(one + one.replace('Host: x\r\n', 'Host: x\r\nConnection: close\r\n'));
      });
      let out = '';
      socket.on('data', (chunk) => (out += chunk));
      socket.on('close', () => resolve(out)); // only if the server closes it after the second
    });
    expect(twice.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(twice.match(/\{"data":\{"__typename":"Query"\}\}/g)).toHaveLength(2);
  });

  it('puts the same set on every other API answer: errors, Express, GET queries, health, 404', async () => {
    const answers = [
      await post('{"query":'), // invalid JSON (hot path)
      await post('{"query":"{ nope }"}'), // validation error (Apollo)
      await raw(
        `GET /graphql?query=${encodeURIComponent('{ __typename }')} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nApollo-Require-Preflight: true\r\n\r\n`,
      ),
      await raw('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'),
      await raw('GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n'),
      await raw(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}`),
    ];
    for (const res of answers) {
      const headers = headersOf(res.head);
      expect(headers.get('content-security-policy'), res.head).toBe("frame-ancestors 'none'");
      expect(headers.get('x-frame-options'), res.head).toBe('DENY');
      expect(headers.get('x-content-type-options'), res.head).toBe('nosniff');
      expect(headers.get('cache-control'), res.head).toBe('no-store');
      expect(headers.get('vary'), res.head).toContain('Authorization');
      expect(headers.get('x-request-id'), res.head).toBeTruthy();
      expect(headers.get('content-type'), res.head).toMatch(/^application\/(graphql-response\+)?json/);
      for (const html of ['cross-origin-opener-policy', 'x-xss-protection', 'origin-agent-cluster'])
        expect(headers.has(html), `${html} in ${res.head}`).toBe(false);
    }
  });

  it("stores nothing signed-in in browsers or proxies: a viewer's cached answer is no-store, an anonymous one public", async () => {
    const student = await t.make.user();
    const token = await t.tokenFor(student);
    const body = JSON.stringify({ query: '{ courses(first: 2) { edges { node { title } } } }' });
    const anonymous = [await post(body), await post(body)].map((r) => headersOf(r.head));
    expect(anonymous.map((h) => h.get('cache-control'))).toEqual(['public, max-age=60', 'public, max-age=60']);
    const signedIn = [
      await post(body, `Authorization: Bearer ${token}\r\n`),
      await post(body, `Authorization: Bearer ${token}\r\n`),
      await post(body, `Authorization: Bearer ${token}\r\n`),
    ].map((r) => headersOf(r.head));
    expect(signedIn.map((h) => h.get('x-cache'))).toEqual(['MISS', 'HIT', 'HIT']);
    expect(signedIn.map((h) => h.get('cache-control'))).toEqual(['no-store', 'no-store', 'no-store']);
  });

  it('names a listed origin for CORS (with the exposed headers) and nothing for others', async () => {
    const listed = headersOf((await post(TYPENAME, 'Origin: http://localhost:3000\r\n')).head);
    expect(listed.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(listed.get('access-control-expose-headers')).toBe('X-Request-ID,X-Cache,Retry-After');
    const other = headersOf((await post(TYPENAME, 'Origin: https://evil.example\r\n')).head);
    expect(other.has('access-control-allow-origin')).toBe(false);
    expect(other.has('access-control-expose-headers')).toBe(false);
  });

  it("gives the explorer and /sandbox pages helmet's HTML set with their own policy", async () => {
    for (const path of ['/graphql', '/sandbox']) {
      const res = await fetch(new URL(path, t.url), { headers: { accept: 'text/html' } });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('cache-control')).toBeNull();
      await res.text();
    }
  });
});
