import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { Revocations } from '../auth/revocations.js';
import type { Config } from '../config/config.js';
import { httpContext, type GraphQLContext } from '../context.js';
import type { Database } from '../db/client.js';
import { EXAMPLE_QUERY } from '../http/apollo.js';
import { createExpressApp, type HealthCheck } from '../http/express-app.js';
import { createGraphQLHandler } from '../http/graphql-handler.js';
import { OperationDeadlines } from '../http/operation-deadline.js';
import type { Logger } from '../logging/logger.js';
import { mountCertificatePdfs } from '../modules/certificates/index.js';
import { mountStripeWebhook, type PurchaseCommands } from '../modules/entitlements/index.js';
import type { Metrics, MetricSources } from '../observability/metrics.js';
import type { Infrastructure } from './infrastructure.js';

export interface HttpDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly database: Database;
  readonly metrics: Metrics;
  readonly httpServer: Server;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly infra: Infrastructure;
  readonly revocations: Revocations;
  readonly isDraining: () => boolean;
  /** What Stripe's webhook (POST /webhooks/stripe) turns payments and refunds into. */
  readonly purchases: PurchaseCommands;
  readonly sources: MetricSources;
}

/**
 * The HTTP side on the server: POST /graphql with a JSON body takes the hot path (node:http,
 * cache hits before Apollo); Express serves everything else.
 * Returns the readiness checks (the jobs add theirs), Express's compiled `trust proxy`
 * function, so sockets see the same client IP as HTTP, and the operation deadlines, which
 * WebSocket queries and mutations share.
 */
export function serveHttp(deps: HttpDeps) {
  const { config, log, database, metrics, httpServer, apollo, infra, revocations, isDraining, purchases, sources } =
    deps;
  const { db } = database;
  const { redis } = infra;
  const readiness: HealthCheck[] = [{ name: 'database', check: () => database.ping() }];
  if (redis) readiness.push({ name: 'redis', check: async () => void (await redis.ping()) });
  const deadlines = new OperationDeadlines(config.graphql.operationTimeoutMs, database.breaker);
  const { viewerOf, contextFor } = httpContext({
    db,
    tokens: infra.tokens,
    log,
    revocations,
    revocationCheck: config.auth.revocationCheck,
  });
  const expressApp = createExpressApp({
    config,
    log,
    metrics,
    deadlines,
    apollo,
    readiness,
    isDraining,
    contextFor,
    exampleQuery: EXAMPLE_QUERY,
    routes: [mountCertificatePdfs(db, log), mountStripeWebhook(config.payments, purchases, log)],
  });
  const trustProxy = expressApp.get('trust proxy fn') as (addr: string, hop: number) => boolean;
  const graphql = createGraphQLHandler({
    config,
    log,
    apollo,
    metrics,
    responseCache: infra.responseCache,
    costBudget: infra.costBudget,
    viewerOf,
    contextFor,
    trustProxy,
    deadlines,
  });
  sources.constantAnswers = () => graphql.stats.constantAnswers;
  sources.knownQueries = () => graphql.stats.knownQueries;
  httpServer.on('request', (req, res) => (graphql.accepts(req) ? graphql.handle(req, res) : expressApp(req, res)));
  return { readiness, trustProxy, deadlines };
}
