import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface LiveClient {
  client: Client;
  /** Resolves with the close code once the socket closes. */
  closed: Promise<number>;
  /** Resolves once the server acknowledged connection_init (the socket is registered). */
  connected: Promise<void>;
  dispose(): Promise<void>;
}

/** The real graphql-ws client over `ws`, as a dashboard would connect. */
export function liveClient(
  httpUrl: string,
  connectionParams?: Record<string, unknown>,
  headers?: Record<string, string>,
): LiveClient {
  let onClosed!: (code: number) => void;
  const closed = new Promise<number>((r) => (onClosed = r));
  let onConnected!: () => void;
  const connected = new Promise<void>((r) => (onConnected = r));
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: headers
      ? class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            super(url, protocols, { headers });
          }
        }
      : WebSocket,
    connectionParams,
    lazy: false,
    onNonLazyError: () => {}, // closes are asserted through `closed`, not printed
    retryAttempts: 0,
    shouldRetry: () => false,
    on: { closed: (event) => onClosed((event as { code: number }).code), connected: () => onConnected() },
  });
  client.on('error', () => {});
  return { client, closed, connected, dispose: () => client.dispose() as Promise<void> };
}

export interface Subscription<T = any> {
  /** Results (data or errors) in arrival order. */
  results: T[];
  /** The next result not yet taken, waiting up to `ms`. */
  next(ms?: number): Promise<T>;
  /** Resolves true if no result arrives within `ms`. */
  quiet(ms: number): Promise<boolean>;
  /** Settles when the server completes or errors the subscription. */
  ended: Promise<unknown>;
  stop(): void;
}

export function subscribe<T = any>(
  live: LiveClient,
  query: string,
  variables?: Record<string, unknown>,
): Subscription<T> {
  const results: T[] = [];
  let taken = 0;
  const waiters: Array<() => void> = [];
  let endResolve!: (v: unknown) => void;
  const ended = new Promise((r) => (endResolve = r));
  const stop = live.client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        results.push(value as T);
        waiters.splice(0).forEach((w) => w());
      },
      error: (err) => endResolve(err),
      complete: () => endResolve('complete'),
    },
  );
  const waitFor = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (results.length > taken) return resolve(true);
      const timer = setTimeout(() => resolve(false), ms);
      waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  return {
    results,
    async next(ms = 5_000) {
      if (!(await waitFor(ms))) throw new Error(`no subscription result within ${ms} ms (got ${results.length})`);
      return results[taken++]!;
    },
    async quiet(ms) {
      return !(await waitFor(ms));
    },
    ended,
    stop,
  };
}

/**
 * graphql-ws has no "subscribed" acknowledgement: until the server has joined the pub/sub
 * topic, events are not delivered. `trigger` causes a harmless event (e.g. creates a lesson)
 * and is repeated until one arrives; then everything received so far is drained.
 */
export async function primed(
  subs: Subscription | Subscription[],
  trigger: () => Promise<unknown>,
  attempts = 30,
): Promise<void> {
  const all = Array.isArray(subs) ? subs : [subs];
  const live = new Set<Subscription>();
  for (let i = 0; i < attempts && live.size < all.length; i++) {
    await trigger();
    for (const sub of all) if (!live.has(sub) && !(await sub.quiet(300))) live.add(sub);
  }
  if (live.size < all.length) throw new Error('subscription never became live');
  for (const sub of all) while (!(await sub.quiet(300))) await sub.next();
}
