import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/** What the browser test (test/browser) relies on, checked over plain HTTP in `npm test`. */
describe('the development explorer', () => {
  let t: TestApp;
  const page = () => fetch(t.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is served at /graphql to browsers, referencing nothing on another origin', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="ruru-root"');
    expect(html).toContain('query Catalog'); // the README's example, preloaded
    expect(html).not.toMatch(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i); // no absolute or protocol-relative URL
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref).toMatch(/^\/explorer-static\//);
      const asset = await fetch(new URL(ref, t.url), { headers: { 'accept-encoding': 'br' } });
      expect(asset.status, ref).toBe(200);
    }
  });

  it('is under a content security policy: this origin only, inline scripts by hash', async () => {
    const res = await page();
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+;/);
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
    expect(csp).toMatch(/connect-src 'self'/);
    const html = await res.text();
    const inline = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>/g)].length;
    expect(csp.match(/'sha256-/g)).toHaveLength(inline);
  });

  it('leaves GraphQL GET requests to the API', async () => {
    const res = await fetch(`${t.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(await res.json()).toMatchObject({ data: { __typename: 'Query' } });
  });

  it('keeps Apollo Sandbox at /sandbox, its CDN allowed there only', async () => {
    const res = await fetch(new URL('/sandbox', t.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain(
      "script-src 'self' https://embeddable-sandbox.cdn.apollographql.com",
    );
    const start = await res.text();
    expect(start).toContain('"runTelemetry":false');
    expect(start).toContain("new URL('/graphql'");
  });

  it('answers an unknown operation name (a renamed explorer tab) with 400, not a 500', async () => {
    const stale = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Me { __typename }', operationName: 'Catalog' }),
    });
    expect(stale.status).toBe(400);
    const body = (await stale.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
    expect(body.errors[0]!.message).toContain('Catalog');
  });

  it('is off in production, with Sandbox and the assets', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production' });
    try {
      const html = await (await fetch(prod.url, { headers: { accept: 'text/html' } })).text();
      expect(html).not.toContain('ruru-root');
      expect((await fetch(new URL('/sandbox', prod.url))).status).toBe(404);
      expect((await fetch(new URL('/explorer-static/ruru.js', prod.url))).status).toBe(404);
      expect((await fetch(new URL('/', prod.url))).status).toBe(404);
    } finally {
      await prod.close();
    }
  });

  it('in production, a browser gets a page about the API; introspection is refused naming the setting', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production' });
    try {
      const page = await fetch(prod.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('EduFlow GraphQL API');
      expect(html).toContain('docs/api-guide.md');
      expect(html).toContain('EXPLORER=on');
      // GraphQL over GET still reaches the API.
      const get = await fetch(`${prod.url}?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(await get.json()).toMatchObject({ data: { __typename: 'Query' } });

      const introspection = await prod.gql('{ __schema { queryType { name } } }');
      expect(introspection.status).toBe(400);
      expect(introspection.errors?.[0]?.message).toContain('GRAPHQL_INTROSPECTION=true');
      expect(introspection.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await prod.close();
    }
  });

  it('EXPLORER=on serves the explorer and introspection in production', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production', EXPLORER: 'on' });
    try {
      const html = await (await fetch(prod.url, { headers: { accept: 'text/html' } })).text();
      expect(html).toContain('ruru-root');
      const introspection = await prod.gql('{ __schema { queryType { name } } }');
      expect(introspection.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    } finally {
      await prod.close();
    }
  });
});
