/**
 * The physical limit for bench/http.ts: node:http answering every request with the bytes
 * and content type EduFlow sent for the same query (BARE_BODY_FILE, BARE_CONTENT_TYPE).
 * Nothing else: no routing, no body parsing, no GraphQL.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.env.BARE_BODY_FILE!);
const headers = {
  'content-type': process.env.BARE_CONTENT_TYPE ?? 'application/json; charset=utf-8',
  'content-length': String(body.length),
};

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, headers).end(body));
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`BARE_HTTP_PORT=${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.keepAliveTimeout = 60_000;
