// The EduFlow client of the dashboard: urql for queries and mutations, graphql-ws for the
// subscriptions (through urql's subscriptionExchange), over the same access token.
import { Client, fetchExchange, subscriptionExchange, type ExecutionResult } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';

/** What the page shows about the socket: connecting, live, or waiting to reconnect. */
export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

export interface EduFlowClients {
  readonly urql: Client;
  readonly ws: WsClient;
  dispose(): void;
}

/**
 * graphql-ws sends a subscription's payload again on every reconnect. For a subscription with an
 * `after` variable, the payload is kept current with the `cursor` of the last event received,
 * so that after a dropped connection or an API restart the server first replays every change
 * missed meanwhile (exactly once), then goes on live.
 */
function keepCursorCurrent(payload: { variables?: Record<string, unknown> }, data: unknown) {
  if (!payload.variables || !('after' in payload.variables) || typeof data !== 'object' || data === null) return;
  for (const field of Object.values(data)) {
    const cursor = (field as { cursor?: unknown } | null)?.cursor;
    if (typeof cursor === 'string') payload.variables.after = cursor;
  }
}

export function createEduFlowClients(
  apiUrl: string,
  getToken: () => string | undefined,
  onState: (state: ConnectionState) => void,
): EduFlowClients {
  const ws = createWsClient({
    url: apiUrl.replace(/^http/, 'ws'),
    connectionParams: () => {
      const token = getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    // A dashboard stays open: keep reconnecting for as long as it does (an API restart, a
    // network change), at most a few seconds apart.
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 4000))),
    on: {
      connecting: (isRetry) => onState(isRetry ? 'reconnecting' : 'connecting'),
      connected: () => onState('live'),
      closed: () => onState('reconnecting'),
    },
  });
  const urql = new Client({
    url: apiUrl,
    // The API refuses simple GET requests a browser could send cross-site (CSRF prevention).
    preferGetMethod: false,
    requestPolicy: 'network-only',
    fetchOptions: () => {
      const token = getToken();
      return token ? { headers: { authorization: `Bearer ${token}` } } : {};
    },
    exchanges: [
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => {
            const payload = { ...request, query: request.query ?? '', variables: { ...request.variables } };
            const unsubscribe = ws.subscribe(payload, {
              next: (result) => {
                keepCursorCurrent(payload, result.data);
                sink.next(result as ExecutionResult);
              },
              error: (err) => sink.error(err),
              complete: () => sink.complete(),
            });
            return { unsubscribe };
          },
        }),
      }),
    ],
  });
  return { urql, ws, dispose: () => void ws.dispose() };
}
