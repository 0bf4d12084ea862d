import type { IncomingMessage } from 'node:http';
import {
  CloseCode,
  handleProtocols,
  makeServer,
  type ServerOptions,
  type WebSocket as ProtocolSocket,
} from 'graphql-ws';
import type { RawData, WebSocket, WebSocketServer } from 'ws';

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
  settings: {
    readonly isProd: boolean;
    readonly keepAliveMs?: number;
    /** Called once when a socket has closed, after graphql-ws' own clean-up started. */
    readonly onClose?: (extra: E, code: number, reason: string) => void;
  },
) {
  const server = makeServer(options);
  function onSocketClose(this: WebSocket, code: number, reason: Buffer) {
    const transport = transportOf(this) as Transport<E> | undefined;
    if (!transport) return;
    const text = String(reason);
    void transport.closed?.(code, text);
    settings.onClose?.(transport.extra!, code, text);
  }
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
  function onPong(this: WebSocket) {
    const transport = transportOf(this);
    if (transport) transport.alive = true;
  }
  wss.on('connection', (socket, request) => {
    socket.once('error', onSocketError);
    socket.on('pong', onPong);
    const extra = extraOf(socket, request);
    const transport = new Transport(socket, closeReason);
    (socket as Carrier)[TRANSPORT] = transport as Transport<unknown>;
    transport.closed = server.opened(transport, extra);
    transport.extra = extra;
    // One 'close' listener per socket, shared: graphql-ws' clean-up, then the caller's.
    socket.once('close', onSocketClose);
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
      const transport = transportOf(socket);
      if (socket.readyState !== socket.OPEN || !transport) continue;
      if (!transport.alive) {
        socket.terminate();
        continue;
      }
      transport.alive = false;
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

/**
 * Each socket's transport, for the listeners all sockets share: a property of the socket, not
 * a WeakMap entry (thousands of entries in weak collections cost every garbage collection).
 */
const TRANSPORT = Symbol('eduflow.transport');
type Carrier = WebSocket & { [TRANSPORT]?: Transport<unknown> };
const transportOf = (socket: WebSocket) => (socket as Carrier)[TRANSPORT];
function onSharedMessage(this: WebSocket, data: RawData) {
  transportOf(this)?.received(data);
}

/** `connection_ack` as graphql-ws serializes it (no payload: onConnect returns `true`). */
const CONNECTION_ACK = '{"type":"connection_ack"}';
const SENT: Promise<void> = Promise.resolve();

/**
 * The socket as graphql-ws sees it (what `useServer` builds from closures, here shared methods
 * and one shared 'message' and 'close' listener for all sockets).
 */
class Transport<E = unknown> implements ProtocolSocket {
  /** graphql-ws' clean-up for this socket (what `opened` returns). */
  closed: ((code: number, reason: string) => Promise<void>) | undefined;
  extra: E | undefined;
  /** Answered since the last keep-alive round (a new socket counts as having answered). */
  alive = true;
  private handler: ((data: string) => Promise<void>) | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly closeReason: (err: unknown) => string,
  ) {}

  get protocol(): string {
    return this.socket.protocol;
  }

  send(data: string): Promise<void> {
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return SENT;
    // The acknowledgement is sent once per socket and nothing waits on its flush (graphql-ws
    // only awaits it before handling the next message, which the client sends after reading
    // it): no callback and no promise of its own. A write error closes the socket ('error').
    if (data === CONNECTION_ACK) {
      socket.send(data);
      return SENT;
    }
    return new Promise((resolve, reject) => {
      socket.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.handler = cb;
    this.socket.on('message', onSharedMessage);
  }

  /**
   * @internal Not an async function awaiting the handler: graphql-ws' handler of a `subscribe`
   * settles only when the subscription ends, and a suspended frame here would hold the
   * message's buffer for as long (thousands of sockets).
   */
  received(data: RawData): void {
    this.handler!(String(data)).catch((err: unknown) => {
      console.error('Internal error occurred during message handling.', err);
      this.socket.close(CloseCode.InternalServerError, this.closeReason(err));
    });
  }
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function limitReason(reason: string): string {
  return Buffer.byteLength(reason) < 124 ? reason : 'Internal server error';
}
