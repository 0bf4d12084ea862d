import { createHash } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import { ruruHTML, type RuruClientConfig } from 'ruru/server';
import { serveStatic } from 'ruru/static';
import { pageSecurityHeaders } from './security-headers.js';

/** Where the explorer's own files (Ruru's prebuilt bundle, from npm) are served. */
const EXPLORER_STATIC_PATH = '/explorer-static/';

const EMPTY_HEADERS = '{}';

/**
 * The development explorer: Ruru (GraphiQL 5 with the docs explorer, the headers editor and
 * the query builder), served from the `ruru` npm package by this process. Nothing comes from
 * another origin, so it works offline and behind strict proxies, under a content security
 * policy that allows only this origin and the page's own inline scripts (by hash).
 * Subscriptions go over graphql-ws at the same path; the headers are sent as the socket's
 * connection params, so `{"Authorization": "Bearer …"}` signs in both transports.
 */
export function mountExplorer(app: Express, exampleQuery: string): void {
  const html = ruruHTML({
    staticPath: EXPLORER_STATIC_PATH,
    endpoint: '/graphql',
    // Relative: Ruru turns it into ws(s)://<this host>/graphql in the browser.
    subscriptionEndpoint: '/graphql',
    clientConfig: {
      initialQuery: exampleQuery,
      defaultQuery: exampleQuery,
      initialHeaders: EMPTY_HEADERS,
      isHeadersEditorEnabled: true,
      // Ruru's "explain" tool asks for Postgraphile's query plans; EduFlow has none.
      debugTools: [],
      // ruru-types picks these from GraphiQL's props, whose types it does not ship: every
      // prop reads as required to tsc, though all are optional.
    } as Partial<RuruClientConfig> as RuruClientConfig,
    htmlParts: { titleTag: '<title>EduFlow GraphQL explorer</title>' },
  });
  const csp = contentSecurityPolicy(html);

  // Not mounted at the path: Ruru's middleware matches (and strips) the prefix itself.
  const assets = serveStatic(EXPLORER_STATIC_PATH);
  app.get(`${EXPLORER_STATIC_PATH}*file`, pageSecurityHeaders, (req, res, next) => {
    res.removeHeader('Cache-Control'); // the assets' own caching rules
    assets(req, res, next);
  });
  app.get('/', (_req, res) => res.redirect(302, '/graphql'));
  app.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
    // A browser navigating here gets the explorer; GraphQL GET requests (JSON, or `?query=`)
    // go on to the API.
    if (
      req.query.query !== undefined ||
      req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) !== 'text/html'
    ) {
      next();
      return;
    }
    pageSecurityHeaders(req, res, () => {
      res.setHeader('Content-Security-Policy', csp);
      res.removeHeader('Cache-Control');
      res.type('html').send(html);
    });
  });
}

/**
 * Only this origin, plus the page's inline scripts by their SHA-256 (Ruru's page bootstraps
 * itself with a few). Styles are inline too (React and the Monaco editor set them at run
 * time), hence 'unsafe-inline' for styles only. Monaco's workers are same-origin modules.
 */
function contentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)]
    .filter(([tag]) => !/\ssrc=/.test(tag.slice(0, tag.indexOf('>'))))
    .map(([, body]) => `'sha256-${createHash('sha256').update(body!).digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    // 'self' covers ws(s):// to this host in current browsers.
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
