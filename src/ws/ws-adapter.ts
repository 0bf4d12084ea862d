import type { IncomingMessage } from 'node:http';
import {
  CloseCode,
  handleProtocols,
  makeServer,
  type ServerOptions,
  type WebSocket as ProtocolSocket,
} from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';

/** How often the keep-alive timer pings its share of the sockets. */
const KEEP_ALIVE_TICK_MS = 250;

/** What each socket keeps of its connection: the client's address and agent, not the whole upgrade request. */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly ip: string;
  readonly userAgent: string | null;
}

/**
 * graphql-ws on a `ws` server, as graphql-ws' own `useServer` (graphql-ws/use/ws) does it,
 * through its documented `makeServer`, with less held per socket (thousands stay open):
 *  - the extra is what we need of the upgrade request (address, user agent), not the request;
 *  - one keep-alive timer for all sockets (ws' heartbeat recipe: a socket that has not answered
 *    the previous ping by the next round is terminated), not an interval per socket, its pings
 *    spread over the period;
 *  - the socket graphql-ws writes through is a small object with shared methods.
 */
export function serveGraphQLWs<P extends Record<string, unknown> | undefined, E extends SocketExtra>(
  options: ServerOptions<P, E>,
  wss: WebSocketServer,
  extraOf: (socket: WebSocket, request: IncomingMessage) => E,
  settings: { readonly isProd: boolean; readonly keepAliveMs?: number },
) {
  const server = makeServer(options);
  const closeReason = (err: unknown) =>
    settings.isProd ? 'Internal server error' : limitReason(err instanceof Error ? err.message : String(err));
  wss.options.handleProtocols = handleProtocols;
  wss.once('error', (err) => {
    console.error('Internal error emitted on the WebSocket server.', err);
    for (const client of wss.clients) client.close(CloseCode.InternalServerError, closeReason(err));
  });
  function onSocketError(this: WebSocket, err: Error) {
    console.error('Internal error emitted on a WebSocket socket.', err);
    this.close(CloseCode.InternalServerError, closeReason(err));
  }
  /** Sockets that answered since the last keep-alive round. */
  const alive = new WeakSet<WebSocket>();
  function onPong(this: WebSocket) {
    alive.add(this);
  }
  wss.on('connection', (socket, request) => {
    socket.once('error', onSocketError);
    alive.add(socket);
    socket.on('pong', onPong);
    const closed = server.opened(new Transport(socket, closeReason), extraOf(socket, request));
    socket.once('close', (code, reason) => void closed(code, String(reason)));
  });
  const keepAliveMs = settings.keepAliveMs ?? 12_000;
  // Spread over the period: each tick pings its share of the sockets (round-robin over a
  // snapshot taken at the start of each round), so ten thousand pings never go out in one
  // burst that would hold up a broadcast. A socket that has not answered its previous ping
  // when its turn comes again, one period later, is terminated.
  const tickMs = Math.max(1, Math.min(KEEP_ALIVE_TICK_MS, keepAliveMs / 4));
  let round: WebSocket[] = [];
  let next = 0;
  const heartbeat = setInterval(() => {
    if (next >= round.length) {
      round = [...wss.clients];
      next = 0;
    }
    const end = Math.min(round.length, next + Math.ceil((round.length * tickMs) / keepAliveMs));
    for (; next < end; next++) {
      const socket = round[next]!;
      if (socket.readyState !== socket.OPEN) continue;
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
    if (next >= round.length) round = [];
  }, tickMs);
  heartbeat.unref();
  return {
    dispose: async () => {
      clearInterval(heartbeat);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** The socket as graphql-ws sees it (what `useServer` builds from closures, here shared methods). */
class Transport implements ProtocolSocket {
  constructor(
    private readonly socket: WebSocket,
    private readonly closeReason: (err: unknown) => string,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    const { socket } = this;
    return new Promise((resolve, reject) => {
      if (socket.readyState !== socket.OPEN) return resolve();
      socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    const { socket, closeReason } = this;
    socket.on('message', async (event) => {
      try {
        await cb(String(event));
      } catch (err) {
        console.error('Internal error occurred during message handling.', err);
        socket.close(CloseCode.InternalServerError, closeReason(err));
      }
    });
  }
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function limitReason(reason: string): string {
  return Buffer.byteLength(reason) < 124 ? reason : 'Internal server error';
}
