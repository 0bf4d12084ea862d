/**
 * The subscription benchmark's WebSocket client (RFC 6455 over node:net), used alike for EduFlow
 * and for the bare `ws` server, so ten thousand of them cost the benchmark process little
 * next to the server it measures: no http.ClientRequest, no per-socket parser or extension
 * negotiation, no per-frame masking work. It still does what a client must: the upgrade request
 * with a key, the 101 answer checked (status and Sec-WebSocket-Accept), masked frames (with a
 * zero key: loopback only, the server unmasks every frame as usual; a real client must pick a
 * random key, §5.3), pongs to the server's pings, and frames split across reads.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const KEY = Buffer.from('eduflow-bench-16').toString('base64'); // 16 bytes, as RFC 6455 asks
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

export interface BenchClient {
  /** performance.now() of each message received, with its parsed payload (`next` payloads for graphql-ws). */
  received: Array<{ at: number; data: any }>;
  /** A client's socket, for the benchmark's clean-up. */
  socket: { terminate(): void };
  /** performance.now() when it started connecting, was upgraded (101), and acknowledged (graphql-ws). */
  timing: { start: number; upgraded: number; acknowledged: number };
}

/** A masked client frame (zero masking key: the payload goes out as it is). */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65_536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  out.writeUInt32BE(0, head);
  payload.copy(out, head + 4);
  return out;
}

export const textFrame = (text: string) => frame(TEXT, Buffer.from(text));

/**
 * Opens a WebSocket to `url` (ws://host:port/path) and calls `onOpen` once upgraded and
 * `onText` for each text message; rejects when the upgrade is refused or the socket fails.
 */
function open(
  url: string,
  protocol: string | null,
  onOpen: (send: (frame: Buffer) => void, at: number) => void,
  onText: (text: string, send: (frame: Buffer) => void) => void,
  onFail: (err: Error) => void,
): Socket {
  const { hostname, port, pathname } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port), noDelay: true });
  const send = (f: Buffer) => void socket.write(f);
  let upgraded = false;
  let pending: Buffer | null = null;
  socket.on('connect', () =>
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n` +
        (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
        '\r\n',
    ),
  );
  socket.on('data', (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        pending = buf;
        return;
      }
      const head = buf.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(`\r\nSec-WebSocket-Accept: ${ACCEPT}`)) {
        socket.destroy();
        return onFail(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      }
      upgraded = true;
      buf = buf.subarray(end + 4);
      onOpen(send, performance.now());
    }
    // Server frames are not masked.
    let at = 0;
    while (buf.length - at >= 2) {
      const opcode = buf[at]! & 0x0f;
      let len = buf[at + 1]! & 0x7f;
      let start = at + 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        start = at + 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (buf.length < start + len) break;
      const payload = buf.subarray(start, start + len);
      at = start + len;
      if (opcode === TEXT) onText(payload.toString(), send);
      else if (opcode === PING) send(frame(PONG, payload));
      else if (opcode === CLOSE) {
        socket.end();
        return onFail(new Error(`closed ${payload.length >= 2 ? payload.readUInt16BE(0) : 1005}`));
      }
    }
    if (at < buf.length) pending = Buffer.from(buf.subarray(at));
  });
  socket.on('error', onFail);
  socket.on('close', () => onFail(new Error('closed')));
  return socket;
}

const terminate = (socket: Socket) => ({ terminate: () => socket.destroy() });

/** A client that starts connecting now. */
const newClient = (): BenchClient => ({
  received: [],
  socket: { terminate: () => {} },
  timing: { start: performance.now(), upgraded: NaN, acknowledged: NaN },
});

/** A graphql-transport-ws subscriber: connection_init with the token, one `subscribe` once acknowledged. */
export function connectGraphQLWs(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const client = newClient();
    const socket = open(
      url,
      'graphql-transport-ws',
      (send, at) => {
        client.timing.upgraded = at;
        send(textFrame(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      },
      (text, send) => {
        const at = performance.now();
        const msg = JSON.parse(text);
        if (msg.type === 'connection_ack') {
          client.timing.acknowledged = at;
          send(textFrame(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } })));
          resolve(client);
        } else if (msg.type === 'next') {
          client.received.push({ at, data: msg.payload });
        } else if (msg.type === 'ping') {
          send(textFrame('{"type":"pong"}'));
        } else if (msg.type === 'error') {
          reject(new Error(JSON.stringify(msg.payload)));
        }
      },
      reject,
    );
    client.socket = terminate(socket);
  });
}

/** A client of the bare broadcast server: every message it receives, parsed. */
export function connectBare(url: string): Promise<BenchClient> {
  return new Promise((resolve, reject) => {
    const client = newClient();
    const socket = open(
      url,
      null,
      (_send, at) => {
        client.timing.upgraded = at;
        resolve(client);
      },
      (text) => {
        const at = performance.now();
        client.received.push({ at, data: JSON.parse(text) });
      },
      reject,
    );
    client.socket = terminate(socket);
  });
}
