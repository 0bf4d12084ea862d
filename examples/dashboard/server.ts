import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));

export interface DashboardServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Bundles the page (app/main.ts, esbuild, in memory) and serves it with its HTML and CSS on
 * its own port. The page talks to the API at `apiUrl` directly, over HTTP and WebSocket, so the
 * API must allow this origin (any localhost origin outside production; CORS_ORIGINS otherwise).
 */
export async function startDashboard(options: {
  apiUrl: string;
  port?: number;
  host?: string;
}): Promise<DashboardServer> {
  const { apiUrl, port = 0, host = '127.0.0.1' } = options;
  const bundle = await build({
    entryPoints: [`${here}app/main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'inline',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'silent',
  });
  const api = new URL(apiUrl);
  const wsOrigin = `${api.protocol === 'https:' ? 'wss' : 'ws'}://${api.host}`;
  const html = (await readFile(`${here}index.html`, 'utf8')).replace('%API_URL%', escapeAttribute(api.href));
  const files = new Map<string, { type: string; body: string | Uint8Array }>([
    ['/', { type: 'text/html; charset=utf-8', body: html }],
    ['/main.js', { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]!.contents }],
    ['/style.css', { type: 'text/css; charset=utf-8', body: await readFile(`${here}style.css`) }],
  ]);
  const policy = `default-src 'self'; connect-src ${api.origin} ${wsOrigin}; base-uri 'none'; form-action 'none'`;
  const server = createServer((req, res) => {
    const file = req.method === 'GET' ? files.get(new URL(req.url ?? '/', 'http://x').pathname) : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store', 'content-security-policy': policy })
      .end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
