import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';

/** The Node HTTP server Express, Apollo's drain plugin and the WebSocket server share. */
export function createHttpServer(config: Config): Server {
  const httpServer = createServer();
  httpServer.requestTimeout = config.http.requestTimeoutMs;
  httpServer.headersTimeout = Math.min(config.http.requestTimeoutMs, 60_000);
  return httpServer;
}

/** Starts listening; resolves with the GraphQL endpoint URL. */
export function listen(httpServer: Server, config: Config): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.http.port, config.http.host, () => {
      const { port } = httpServer.address() as AddressInfo;
      const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
      resolve(config.http.publicUrl ?? `http://${host}:${port}/graphql`);
    });
  });
}
