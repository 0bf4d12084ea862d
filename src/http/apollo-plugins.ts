import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { GraphQLContext } from '../context.js';
import { queriesInScope } from '../db/query-stats.js';
import { ErrorCode, httpStatusOf } from '../errors/app-error.js';
import { assertCostWithin, type Limits } from '../graphql/limits.js';

/** One log line per operation: name, duration, viewer, error codes and SQL statement count. */
export function requestLoggingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue: ctx, operationName, response, errors }) {
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const codes = (body?.errors ?? errors ?? []).map((e) => e.extensions?.code);
          ctx.log.info(
            {
              operationName: operationName ?? undefined,
              durationMs: Math.round(durationMs * 10) / 10,
              userId: ctx.viewer.userId ?? undefined,
              status: response.http.status ?? 200,
              errors: codes.length ? codes : undefined,
              dbQueries: queriesInScope(),
              cache: ctx.cacheOutcome,
            },
            'graphql request',
          );
        },
      };
    },
  };
}

/** Rejects operations whose estimated cost is over the limit, before any resolver runs. */
export function costLimitPlugin(limits: Limits, schema: () => GraphQLSchema): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          assertCostWithin(limits, schema(), document, request.variables, operationName);
        },
      };
    },
  };
}

const CLIENT_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * When an operation produced no data at all, answer with the HTTP status of its error
 * (400 bad input, 401, 403, 404, 409, 429, 500) instead of a blanket 200, so HTTP-level
 * tooling sees failures. Partial results (data plus field errors) stay 200, as GraphQL
 * clients expect. The body is the same either way.
 */
export function httpStatusPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (data != null || !errors?.length) return;
          if (response.http.status && response.http.status !== 200) return;
          const first = errors[0]?.extensions;
          const code = first?.code;
          if (typeof code === 'string' && CLIENT_CODES.has(code)) {
            response.http.status = httpStatusOf[code as ErrorCode];
          }
          if (code === ErrorCode.RATE_LIMITED && typeof first?.retryAfterSeconds === 'number') {
            response.http.headers.set('retry-after', String(first.retryAfterSeconds));
          }
        },
      };
    },
  };
}
