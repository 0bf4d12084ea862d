// The bare graphql-ws client (no framework). Node 20 has no global WebSocket: pass the one
// from `ws`, or createClient throws "WebSocket implementation missing". Browsers and Node 22+
// can leave webSocketImpl out. Tested by client-recipes.test.ts.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

export function createEduFlowSocket(httpUrl: string, accessToken?: string) {
  return createClient({
    url: httpUrl.replace(/^http/, 'ws'), // ws://localhost:4000/graphql
    webSocketImpl: WebSocket,
    connectionParams: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
  });
}
