import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { serveGraphQLWs } from '../../src/ws/ws-adapter.js';

const schema = buildSchema('type Query { hello: String }');

describe(serveGraphQLWs.name, () => {
  let http: Server | undefined;
  let dispose: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await dispose?.();
    await new Promise((r) => http?.close(r));
  });

  async function start(keepAliveMs: number): Promise<string> {
    http = createServer();
    const wss = new WebSocketServer({ server: http });
    dispose = serveGraphQLWs(
      { schema, roots: { query: { hello: () => 'world' } } },
      wss,
      (socket, req) => ({ socket, ip: req.socket.remoteAddress ?? '', userAgent: null }),
      { isProd: true, keepAliveMs },
    ).dispose;
    await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
    return `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  }

  function connect(url: string, autoPong: boolean) {
    const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong });
    const closed = new Promise<number>((r) => socket.on('close', (code) => r(code)));
    return { socket, closed };
  }

  it('speaks graphql-transport-ws', async () => {
    const { socket } = connect(await start(10_000), true);
    const messages: unknown[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise((r) => socket.on('open', r));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await expect.poll(() => messages.length).toBe(1);
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: '{ hello }' } }));
    await expect.poll(() => messages.length).toBe(3);
    expect(messages).toEqual([
      { type: 'connection_ack' },
      { id: 'q', type: 'next', payload: { data: { hello: 'world' } } },
      { id: 'q', type: 'complete' },
    ]);
    socket.terminate();
  });

  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const url = await start(100);
    const silent = connect(url, false);
    const answering = connect(url, true);
    // Terminated (1006 as the client sees it) within a couple of rounds.
    expect(await silent.closed).toBe(1006);
    await new Promise((r) => setTimeout(r, 300));
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    answering.socket.terminate();
  });
});
