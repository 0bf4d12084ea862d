import type { ApolloServerPlugin } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphQLContext } from '../context.js';
import { queriesInScope } from '../db/query-stats.js';
import { AppError, ErrorCode, httpStatusOf } from '../errors/app-error.js';
import { budgetKey, type CostBudget, type CostReport } from '../graphql/cost-budget.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OperationVariables } from '../graphql/coerced-variables.js';
import { DocumentMemo, operationKey } from '../graphql/document-memo.js';
import { assertCostWithin, type Limits } from '../graphql/limits.js';
import { constantEntryOf } from './constant-operation.js';
import { RETRY_AFTER_SECONDS } from './operation-deadline.js';
import { responseTypeFor } from './response-type.js';

/**
 * The access log, one line per operation (request id, operation name and type, user, duration,
 * status, error codes, cost, cache outcome, SQL statements), and the matching metrics.
 * Variables are not logged; the logger redacts tokens, passwords and email addresses anywhere.
 */
export function requestLoggingPlugin(metrics?: Metrics, log?: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ contextValue: ctx, operationName, operation, response, errors }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          const codes = (body?.errors ?? errors ?? []).map((e) => e.extensions?.code);
          const type = operation?.operation;
          metrics?.operationDuration.observe(
            { operation: metrics.operationLabel(operationName), type: type ?? 'invalid' },
            seconds,
          );
          for (const code of codes) metrics?.errors.inc({ code: String(code ?? 'UNKNOWN') });
          // The level check on the root logger first: the request's own logger is made on
          // first use (context.ts), and at LOG_LEVEL=warn this line is not written.
          if (log && !log.isLevelEnabled('info')) return;
          ctx.log.info(
            {
              operationName: operationName ?? undefined,
              operationType: type,
              durationMs: Math.round(seconds * 10_000) / 10,
              userId: ctx.viewer.userId ?? undefined,
              status: response.http.status ?? 200,
              errors: codes.length ? codes : undefined,
              cost: (body?.extensions?.cost as { requested?: number } | undefined)?.requested,
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

/**
 * Rejects operations whose estimated cost is over the limit, before any resolver runs, then
 * spends the cost from the caller's per-minute budget (RATE_LIMITED with Retry-After when it
 * is gone). The response reports `extensions.cost` so well-behaved clients can pace themselves.
 */
export function costLimitPlugin(
  limits: Limits,
  variables: OperationVariables,
  budget?: CostBudget,
): ApolloServerPlugin<GraphQLContext> {
  // The estimate depends on the document, operation and coerced variables only: computed once
  // for each (an operation over the limit throws every time, it is not remembered). Variables
  // that do not coerce cost nothing: execution refuses the operation and runs nothing.
  const costs = new DocumentMemo<number>();
  return {
    async requestDidStart() {
      let report: CostReport | undefined;
      return {
        async didResolveOperation({ document, operation, request, operationName, contextValue: ctx }) {
          const coerced = operation ? variables.of(ctx, operation, request.variables) : undefined;
          const cost =
            operation && coerced?.ok
              ? costs.get(document, operationKey(operationName, coerced.key), () => {
                  const input = variables.executionInput(document, operation, coerced.values, request.variables);
                  return assertCostWithin(limits, input.schema, input.document, input.variableValues, operationName);
                })
              : 0;
          if (ctx.operationFacts) ctx.operationFacts.cost = cost;
          if (!budget) return;
          try {
            report = await budget.spend(budgetKey(ctx.viewer, ctx.client.ip), cost);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            throw err.toGraphQLError({
              status: 429,
              headers: new HeaderMap([['retry-after', String(err.details.retryAfterSeconds ?? 60)]]),
            });
          }
        },
        async willSendResponse({ response }) {
          if (report && response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: report };
          }
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
 * clients expect. The body is the same either way. A response with no data because a
 * dependency is unavailable is a 503 with Retry-After whatever else failed with it, and so
 * is one whose every root field is null for that reason: there is nothing in it to use.
 */
export function httpStatusPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (!errors?.length) return;
          if (response.http.status && response.http.status !== 200) return;
          const unavailable = errors.find((e) => e.extensions?.code === ErrorCode.SERVICE_UNAVAILABLE);
          if (unavailable && (data == null || Object.values(data).every((v) => v === null))) {
            response.http.status = 503;
            response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
            return;
          }
          if (data != null) return;
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

/**
 * The response's type, chosen as Apollo would (see response-type.ts), queries whose answer
 * depends on their document alone marked for the HTTP handler (constant-operation.ts), and
 * subscriptions are served over WebSocket (graphql-transport-ws) only; over HTTP one would
 * resolve its event field without an event (a 500). Refused before any cost is spent.
 */
export function httpOperationsPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ request, response }) {
      // The response type Apollo would choose for a single result, negotiated once per Accept
      // header rather than per request; none acceptable: Apollo answers its 406 as before.
      // (Incremental delivery sets its multipart type over this one.)
      const type = request.http && responseTypeFor(request.http.headers.get('accept'));
      if (type) response.http.headers.set('content-type', type);
      return {
        async didResolveOperation({ operation, schema, contextValue: ctx }) {
          if (operation?.operation === 'query' && ctx.operationFacts) {
            const entry = constantEntryOf(operation, schema.getQueryType()!.name);
            if (entry !== null) ctx.operationFacts.constant = { entry, operationName: operation.name?.value ?? null };
          }
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            'Subscriptions are not served over HTTP; open a WebSocket (graphql-transport-ws) at this same URL',
            {
              extensions: { code: 'BAD_REQUEST', http: { status: 400, headers: new HeaderMap() } },
            },
          );
        },
      };
    },
  };
}
