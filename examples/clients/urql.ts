// urql (@urql/core 6) for EduFlow. The API refuses GET requests that a browser could send
// cross-site without a preflight (CSRF prevention), and urql sends short queries as GET by
// default: either POST everything (`preferGetMethod: false`, below) or keep GET and add the
// `apollo-require-preflight` header (see docs/clients.md). Tested by client-recipes.test.ts.
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node 20 only

export function createEduFlowUrqlClient(httpUrl: string, getToken: () => string | undefined) {
  const ws = createWsClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: () => {
      const token = getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  const client = new Client({
    url: httpUrl,
    preferGetMethod: false,
    fetchOptions: () => {
      const token = getToken();
      return token ? { headers: { authorization: `Bearer ${token}` } } : {};
    },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
  return { client, dispose: () => ws.dispose() };
}
