import type { Express, NextFunction, Request, Response } from 'express';
import { pageSecurityHeaders } from './security-headers.js';

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>EduFlow GraphQL API</title></head>
<body>
<h1>EduFlow GraphQL API</h1>
<p>This is the EduFlow GraphQL endpoint. Send GraphQL requests here: <code>POST</code> with a JSON body
(<code>{"query": "..."}</code>) for queries and mutations, or a WebSocket (protocol
<code>graphql-transport-ws</code>) at this same URL for subscriptions.</p>
<p>Documentation: <code>README.md</code> and <code>docs/</code> in the EduFlow source
(<code>docs/api-guide.md</code> for the API, <code>docs/operations.md</code> for running it).</p>
<p>The explorer is off here (it is off by default in production). To turn it on, start the API with
<code>EXPLORER=on</code>; introspection follows it unless <code>GRAPHQL_INTROSPECTION</code> says otherwise.</p>
</body>
</html>
`;

/**
 * Where the explorer is off (production): a browser opening the endpoint gets a short page
 * saying what this is, where the docs are and how to turn the explorer on, rather than a JSON
 * complaint about CSRF. GraphQL GET requests (JSON, or `?query=`) go on to the API.
 */
export function mountApiPage(app: Express): void {
  app.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
    if (
      req.query.query !== undefined ||
      req.query.extensions !== undefined ||
      req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) !== 'text/html'
    ) {
      next();
      return;
    }
    pageSecurityHeaders(req, res, () => {
      res.setHeader('Content-Security-Policy', "default-src 'none'");
      res.type('html').send(PAGE);
    });
  });
}
