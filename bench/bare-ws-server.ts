/**
 * The baseline for bench/subscriptions.ts: a bare `ws` server that, on POST /broadcast, sends
 * the request body to every connected client. Nothing else: no GraphQL, no auth, no Redis.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/broadcast') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const payload = Buffer.concat(chunks).toString();
    for (const client of wss.clients) client.send(payload);
    res.writeHead(204).end();
  });
});
const wss = new WebSocketServer({ server });
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`BARE_WS_PORT=${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => {
  for (const c of wss.clients) c.terminate();
  server.close(() => process.exit(0));
});
