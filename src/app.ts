import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { TokenService } from './auth/tokens.js';
import type { ResponseCache } from './cache/response-cache.js';
import type { Config } from './config/config.js';
import { createDatabase, type Database } from './db/client.js';
import { createApollo } from './http/apollo.js';
import { createHttpServer, listen } from './http/http-server.js';
import { createConfiguredLogger, type Logger } from './logging/logger.js';
import { Metrics, type MetricSources } from './observability/metrics.js';
import { resolverContainer } from './resolvers.js';
import { buildAppSchema } from './schema.js';
import { prepareDatabase } from './wiring/database.js';
import { startInfrastructure } from './wiring/infrastructure.js';
import { startJobs, type Background } from './wiring/jobs.js';
import { serveHttp } from './wiring/http.js';
import { wireModules } from './wiring/modules.js';
import { startRevocations } from './wiring/revocations.js';
import { shareWalPositions } from './wiring/replicas.js';
import { attachWebSocket } from './wiring/websocket.js';
import type { WsServer } from './ws/graphql-ws.js';

export interface AppOptions {
  readonly log?: Logger;
  /** Called for every SQL statement (tests count statements with it). */
  readonly onQuery?: (sql: string) => void;
}

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly database: Database;
  readonly tokens: TokenService;
  readonly schema: GraphQLSchema;
  readonly httpServer: Server;
  /** The WebSocket side (diagnostics and tests: connection counts, closing a user's sockets). */
  readonly ws: WsServer;
  readonly metrics: Metrics;
  /** The whole-response cache (its counters, and invalidation for tests and workers). */
  readonly responseCache: ResponseCache;
  /** The job queue and the relay/processors, when this process runs them (NOTIFICATION_WORKER=on). */
  readonly background: Background;
  /** Starts listening; resolves with the GraphQL endpoint URL. */
  listen(): Promise<string>;
  /** Stops accepting, drains in-flight requests, closes pools. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The composition root: builds every singleton in order (database, infrastructure, modules,
 * resolvers, schema, Apollo, HTTP, WebSocket, jobs) and hands the resolvers to type-graphql's
 * container. Per-request things (viewer, loaders, logger) travel in the context only.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createConfiguredLogger(config);
  const live: MetricSources = {};
  const metrics = new Metrics(live);
  const onQuery = (sql: string) => {
    metrics.sqlStatements.inc();
    options.onQuery?.(sql);
  };
  const database = createDatabase(config, log.child({ module: 'db' }), { onQuery, metrics });
  try {
    return await assemble(config, log, database, metrics, live);
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}

async function assemble(
  config: Config,
  log: Logger,
  database: Database,
  metrics: Metrics,
  sources: MetricSources,
): Promise<App> {
  const { db } = database;
  const step = await prepareDatabase(config, database, log);
  step('building the schema and connecting services');

  const infra = await startInfrastructure(config, log);
  const closeWalPositions = shareWalPositions(config, database, log.child({ module: 'db' }));
  const { tokens, bus, responseCache } = infra;
  const revocation = await startRevocations({ config, db, bus, log });
  const modules = wireModules({ config, db, log, ...infra, revocationSync: revocation.sync });
  const schema = await buildAppSchema(resolverContainer(modules));

  const httpServer = createHttpServer(config);
  const apollo = await createApollo({ config, log, schema, httpServer, metrics, ...infra });
  let draining = false;
  const { readiness, trustProxy, deadlines } = serveHttp({
    config,
    log,
    database,
    metrics,
    httpServer,
    apollo,
    infra,
    revocations: revocation.revocations,
    isDraining: () => draining,
    purchases: modules.purchases,
    sources,
  });
  const deps = { config, log, db, metrics, sources };
  const { ws, stopSessions } = await attachWebSocket({
    ...deps,
    httpServer,
    schema,
    infra,
    modules,
    trustProxy,
    deadlines,
  });
  const { background, closeReader } = await startJobs({ ...deps, database, bus, readiness });

  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    database,
    tokens,
    schema,
    httpServer,
    ws,
    metrics,
    responseCache,
    background,
    listen: () => listen(httpServer, config),
    close: () =>
      (closing ??= (async () => {
        draining = true;
        stopSessions();
        await revocation.sync.close();
        infra.stopListening();
        await closeReader();
        // Workers stop taking jobs at once and finish the ones in hand while HTTP drains.
        await Promise.all([
          ws.close(), // 1001 to every socket; ones that do not answer are cut off after a grace period
          apollo.stop(), // the drain plugin stops accepting and waits for in-flight requests
          background?.work.close(),
        ]);
        await infra.close();
        closeWalPositions();
        await database.close();
        log.info('shut down cleanly');
      })()),
  };
}
