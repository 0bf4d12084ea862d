import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config/config.js';
import { wsContext } from '../context.js';
import type { Db } from '../db/client.js';
import type { OperationDeadlines } from '../http/operation-deadline.js';
import type { Logger } from '../logging/logger.js';
import { activeSessions } from '../modules/accounts/index.js';
import type { MetricSources, Metrics } from '../observability/metrics.js';
import { Topics, type SessionsEvent } from '../pubsub/topics.js';
import { batchWhileBusy, CONNECT_BATCHING } from '../util/batch-while-busy.js';
import { withTimeout } from '../util/with-timeout.js';
import { startGraphQLWs } from '../ws/graphql-ws.js';
import type { Infrastructure } from './infrastructure.js';
import type { Modules } from './modules.js';

/** How long one statement of session checks may take before its sockets are asked to retry (1013). */
const SESSION_CHECK_TIMEOUT_MS = 3_000;

export interface WebSocketDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly db: Db;
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly infra: Infrastructure;
  readonly modules: Modules;
  readonly metrics: Metrics;
  readonly sources: MetricSources;
  /** Express's compiled `trust proxy` function, so sockets see the same client IP as HTTP. */
  readonly trustProxy: (addr: string, hop: number) => boolean;
  /** The operation timeout and the database circuit, for queries and mutations over the socket. */
  readonly deadlines: OperationDeadlines;
}

/**
 * GraphQL over WebSocket on the HTTP server, its metrics, and the bus subscription that closes
 * a user's sockets on every instance. Resolves with the server and a function that stops
 * listening on the bus.
 */
export async function attachWebSocket({
  config,
  log,
  db,
  httpServer,
  schema,
  infra,
  modules,
  metrics,
  sources,
  trustProxy,
  deadlines,
}: WebSocketDeps) {
  const { tokens, bus, costBudget, responseCache } = infra;
  const wsLog = log.child({ module: 'ws' });
  // Sockets connect by the thousand, each in its own tick: their session checks share one
  // statement (see CONNECT_BATCHING). No cache: each connection sees the session as it is now.
  // Bounded per statement, not per socket (one timer for the batch's sockets): a statement
  // that does not answer (the database is down or hung) fails every check in it.
  const sessionOf = batchWhileBusy(async (ids: readonly string[]) => {
    const found = await withTimeout(activeSessions(db, ids), SESSION_CHECK_TIMEOUT_MS, 'the session check');
    const rows = new Map(found.map((r) => [r.id, r]));
    return ids.map((id) => rows.get(id) ?? null);
  }, CONNECT_BATCHING);
  const ws = startGraphQLWs({
    httpServer,
    schema,
    config,
    tokens,
    log: wsLog,
    contextFor: wsContext({ db, log: wsLog, live: modules.live }),
    sessionCurrent: async ({ sessionId, userId, role }) => {
      if (sessionId === null || userId === null || role === null) return false;
      const session = await sessionOf(sessionId);
      return session !== null && session.userId === userId && session.role === role;
    },
    trustProxy,
    costBudget,
    metrics,
    invalidate: (tags) => responseCache.invalidate(tags),
    deadlines,
  });
  sources.wsConnections = () => ws.connections;
  sources.wsSubscriptions = () => ws.subscriptions;
  sources.wsLiveSubscriptions = () => ws.liveSubscriptions;
  sources.cache = () => responseCache.stats;
  // Logout, password changes and role changes close the user's sockets on every instance.
  const stopSessions = await bus.subscribe(Topics.sessions, (payload) => {
    const { userId, reason, sessionIds } = payload as SessionsEvent;
    const closed = ws.closeUserSockets(
      userId,
      reason === 'ROLE_CHANGED' ? 'Role changed' : 'Session ended',
      sessionIds,
    );
    if (closed) log.info({ userId, reason, closed }, 'closed sockets of a user');
  });
  return { ws, stopSessions };
}
