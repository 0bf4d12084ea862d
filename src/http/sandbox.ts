import { createHash } from 'node:crypto';
import type { Express } from 'express';
import { pageSecurityHeaders } from './security-headers.js';

/** Apollo's embeddable Sandbox, from Apollo's CDN (the one page here that needs the internet). */
const SANDBOX_SCRIPT = 'https://embeddable-sandbox.cdn.apollographql.com/v2/embeddable-sandbox.umd.production.min.js';

/**
 * Apollo Sandbox at /sandbox for those who prefer it. Its policy allows Apollo's CDN, its
 * iframe and the page's one inline script (by hash), nothing else. Telemetry off, cookies
 * not sent, and the endpoint is this server's /graphql whatever the page's own path.
 */
export function mountSandbox(app: Express, exampleQuery: string): void {
  const config = JSON.stringify({
    target: '#sandbox',
    initialState: { document: exampleQuery, includeCookies: false },
    hideCookieToggle: true,
    endpointIsEditable: false,
    runTelemetry: false,
    allowDynamicStyles: false,
  }).replaceAll('<', '\\u003c');
  const start = `new window.EmbeddedSandbox(Object.assign(${config}, { initialEndpoint: new URL('/graphql', window.location.href).href }));`;
  const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<title>EduFlow: Apollo Sandbox</title>
<style>body { margin: 0; } #sandbox { width: 100vw; height: 100vh; }</style>
</head>
<body>
<div id="sandbox">Apollo Sandbox loads from Apollo's CDN; offline, use the explorer at <a href="/graphql">/graphql</a>.</div>
<script src="${SANDBOX_SCRIPT}"></script>
<script>${start}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'self'",
    `script-src 'self' https://embeddable-sandbox.cdn.apollographql.com 'sha256-${createHash('sha256').update(start).digest('base64')}'`,
    "style-src 'self' 'unsafe-inline'",
    'frame-src https://sandbox.embed.apollographql.com',
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  app.get('/sandbox', pageSecurityHeaders, (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.removeHeader('Cache-Control');
    res.type('html').send(page);
  });
}
