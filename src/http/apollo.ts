import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerOptionsWithGateway, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ErrorsAreMissesCache } from '@apollo/utils.keyvaluecache';
import type { GraphQLSchema } from 'graphql';
import type { RedisClient } from '../redis/redis.js';
import { RedisApqStore } from '../cache/apq-store.js';
import { stringifyResult, type ResponseCache } from '../cache/response-cache.js';
import type { Config } from '../config/config.js';
import type { GraphQLContext, KnownQuery } from '../context.js';
import { createErrorFormatter, errorRequestIdPlugin } from '../errors/format-error.js';
import type { CostBudget } from '../graphql/cost-budget.js';
import { OperationVariables } from '../graphql/coerced-variables.js';
import { JitExecutor } from '../graphql/jit-executor.js';
import { limitValidationRules, parseOptions } from '../graphql/limits.js';
import { NoIntrospection } from '../graphql/introspection-rule.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { operationPlugin, responsePlugin } from './apollo-plugins.js';

export interface ApolloDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly schema: GraphQLSchema;
  readonly httpServer: Server;
  readonly metrics: Metrics;
  readonly responseCache: ResponseCache;
  readonly cacheRedis?: RedisClient;
  readonly costBudget?: CostBudget;
}

/** Apollo Server over the schema: limits, persisted queries, and its plugins in order. Started. */
export async function createApollo({
  config,
  log,
  schema,
  httpServer,
  metrics,
  responseCache,
  cacheRedis,
  costBudget,
}: ApolloDeps) {
  const limits = config.graphql;
  // Each request's variables, coerced once for the cost check, the response cache and execution.
  const variables = new OperationVariables(schema);
  const jit = new JitExecutor(
    schema,
    config.graphql.jitAfter,
    (outcome) => metrics.jitCompilations.inc({ outcome }),
    variables,
  );
  // A query the HTTP handler executes again without Apollo (graphql-handler.ts): as Apollo's
  // executor below would run it.
  const run: KnownQuery['run'] = (query, ctx) =>
    jit.run(
      query.document,
      query.operation,
      query.operationName,
      query.variables,
      ctx,
      variables.of(ctx, query.operation, query.variables),
    );
  const apollo = new ApolloServer<GraphQLContext>({
    // Queries run on graphql-jit (graphql/jit-executor.ts); Apollo takes a custom executor only
    // as a gateway. Parsing, validation, plugins and error formatting are Apollo's as before.
    // A result the HTTP handler computed already (an answer with errors it hands to Apollo to
    // format, see `OperationFacts.executed`) is returned as it is, once.
    gateway: precomputedFirst(jit.asGateway()),
    // Always allowed by Apollo; refused by our own rule below, whose message names the setting.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter(log, { hideSuggestions: !config.graphql.introspection }),
    validationRules: [...limitValidationRules(limits), ...(config.graphql.introspection ? [] : [NoIntrospection])],
    parseOptions: parseOptions(limits),
    stopOnTerminationSignals: false,
    // A cache hit's stored bytes are written as they are (cache/response-cache.ts).
    stringifyResult,
    // Apollo's own messages (an unexpected error while processing a request) as JSON lines.
    logger: apolloLogger(log.child({ module: 'apollo' })),
    // Automatic persisted queries: in Redis when there is one (shared by every instance).
    persistedQueries: {
      ttl: config.cache.apqTtlSeconds,
      ...(cacheRedis
        ? {
            cache: new ErrorsAreMissesCache(
              new RedisApqStore(cacheRedis, config.cache.apqTtlSeconds, Math.max(config.cache.timeoutMs, 50)),
              log,
            ),
          }
        : {}),
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.http.shutdownGraceMs }),
      // Cache policies come from the schema's static @cacheControl hints, computed once per
      // document (see cache/cache-control.ts); Apollo's plugin would wrap every resolver.
      ApolloServerPluginCacheControlDisabled(),
      // The explorer and Sandbox are served by Express (http/explorer.ts), not by Apollo.
      ApolloServerPluginLandingPageDisabled(),
      // Response type, constant queries, subscriptions refused, cost, budget, read routing.
      operationPlugin(limits, variables, costBudget, run),
      responseCache.plugin(schema, variables),
      errorRequestIdPlugin(), // so unexpected errors are logged with their request id
      // The HTTP status, then the access log and metrics (the logged status is the one sent).
      responsePlugin(metrics, log),
    ],
  });
  await apollo.start();
  return apollo;
}

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;

/** The gateway, its executor returning a result the HTTP handler computed instead of executing. */
function precomputedFirst(gateway: GatewayInterface): GatewayInterface {
  return {
    ...gateway,
    load: async (options) => {
      const loaded = await gateway.load(options);
      const inner = loaded.executor;
      if (!inner) return loaded;
      const executor: GatewayExecutor = (requestContext) => {
        const facts = (requestContext.context as GraphQLContext).operationFacts;
        const executed = facts?.executed;
        if (!executed) return inner(requestContext);
        facts.executed = undefined;
        return 'failed' in executed ? Promise.reject(executed.failed) : Promise.resolve(executed.result);
      };
      return { ...loaded, executor };
    },
  };
}

function apolloLogger(log: Logger) {
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    debug: (message?: unknown) => log.debug(text(message)),
    info: (message?: unknown) => log.info(text(message)),
    warn: (message?: unknown) => log.warn(text(message)),
    error: (message?: unknown) => log.error(text(message)),
  };
}

/** Preloaded in the explorer and in Apollo Sandbox, and the first example in the README. */
export const EXAMPLE_QUERY = `query Catalog {
  courses(first: 5, orderBy: { field: TITLE, direction: ASC }) {
    totalCount
    edges {
      node {
        title
        priceCents
        instructor { displayName }
        lessonCount
        lessons(first: 3) { edges { node { title status scheduledAt } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;
