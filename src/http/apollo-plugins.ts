import type {
  ApolloServerPlugin,
  GraphQLRequestContextDidResolveOperation,
  GraphQLRequestContextWillSendResponse,
} from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GraphQLContext, KnownQuery } from '../context.js';
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
import { noteReadRoute } from './read-routing-plugin.js';
import { responseTypeFor } from './response-type.js';

/**
 * Apollo invokes every plugin's hooks on every request, each through a promise (and the hook
 * objects are made per request): the rules below are two plugins rather than five, one placed
 * before the response cache and one after it (see apollo.ts), and each does in one hook what the
 * separate plugins did in theirs, in the same order and with the same outcome.
 *
 * `operationPlugin`, before the response cache:
 *  - the response's type, chosen as Apollo would (see response-type.ts), negotiated once per
 *    Accept header rather than per request; none acceptable: Apollo answers its 406 as before;
 *  - queries whose answer depends on their document alone marked for the HTTP handler
 *    (constant-operation.ts);
 *  - subscriptions refused: they are served over WebSocket (graphql-transport-ws) only; over
 *    HTTP one would resolve its event field without an event (a 500);
 *  - the cost limit: operations whose estimated cost is over the limit are rejected before any
 *    resolver runs, then the cost is spent from the caller's per-minute budget (RATE_LIMITED
 *    with Retry-After when it is gone), and the response reports `extensions.cost` so
 *    well-behaved clients can pace themselves;
 *  - read routing (read-routing-plugin.ts).
 */
export function operationPlugin(
  limits: Limits,
  variables: OperationVariables,
  budget: CostBudget | undefined,
  run: KnownQuery['run'],
): ApolloServerPlugin<GraphQLContext> {
  // The estimate depends on the document, operation and coerced variables only: computed once
  // for each (an operation over the limit throws every time, it is not remembered). Variables
  // that do not coerce cost nothing: execution refuses the operation and runs nothing.
  const costs = new DocumentMemo<number>();

  /** The cost check and the budget (what the cost plugin's hook did): the report, if any. */
  const spendCost = async ({
    document,
    operation,
    request,
    operationName,
    contextValue: ctx,
  }: GraphQLRequestContextDidResolveOperation<GraphQLContext>): Promise<CostReport | undefined> => {
    const coerced = operation ? variables.of(ctx, operation, request.variables) : undefined;
    const cost =
      operation && coerced?.ok
        ? costs.get(document, operationKey(operationName, coerced.key), () => {
            const input = variables.executionInput(document, operation, coerced.values, request.variables);
            return assertCostWithin(limits, input.schema, input.document, input.variableValues, operationName);
          })
        : 0;
    if (ctx.operationFacts) ctx.operationFacts.cost = cost;
    // Executed by the HTTP handler, which spent the budget already (see `OperationFacts.executed`).
    const executed = ctx.operationFacts?.executed;
    if (executed) return executed.report;
    if (!budget) return undefined;
    try {
      return await budget.spend(budgetKey(ctx.viewer, ctx.client.ip), cost);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw err.toGraphQLError({
        status: 429,
        headers: new HeaderMap([['retry-after', String(err.details.retryAfterSeconds ?? 60)]]),
      });
    }
  };

  return {
    async requestDidStart({ request, response }) {
      // (Incremental delivery sets its multipart type over this one.)
      const type = request.http && responseTypeFor(request.http.headers.get('accept'));
      if (type) response.http.headers.set('content-type', type);
      let report: CostReport | undefined;
      return {
        async didResolveOperation(context) {
          const { operation, schema, contextValue: ctx } = context;
          if (operation?.operation === 'query' && ctx.operationFacts) {
            const entry = constantEntryOf(operation, schema.getQueryType()!.name);
            if (entry !== null) ctx.operationFacts.constant = { entry, operationName: operation.name?.value ?? null };
            const { document, operationName, request } = context;
            ctx.operationFacts.query = {
              document,
              operation,
              operationName: operationName ?? request.operationName,
              variables: request.variables,
              run,
            };
          }
          const refused = operation?.operation === 'subscription' ? subscriptionRefused() : undefined;
          // As when these were separate hooks run side by side: the cost is worked out and
          // spent, and reads routed, whether or not the operation is refused; the refusal wins.
          const spending = spendCost(context).then((spent) => void (report = spent));
          noteReadRoute(operation, ctx);
          if (refused) {
            spending.catch(() => {});
            throw refused;
          }
          await spending;
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

function subscriptionRefused(): GraphQLError {
  return new GraphQLError(
    'Subscriptions are not served over HTTP; open a WebSocket (graphql-transport-ws) at this same URL',
    {
      extensions: { code: 'BAD_REQUEST', http: { status: 400, headers: new HeaderMap() } },
    },
  );
}

const CLIENT_CODES = new Set<string>(Object.values(ErrorCode));

/**
 * `responsePlugin`, last (after the response cache and the errors' request ids):
 *  - the HTTP status: when an operation produced no data at all, the status of its error (400
 *    bad input, 401, 403, 404, 409, 429, 500) instead of a blanket 200, so HTTP-level tooling
 *    sees failures. Partial results (data plus field errors) stay 200, as GraphQL clients
 *    expect. The body is the same either way. A response with no data because a dependency is
 *    unavailable is a 503 with Retry-After whatever else failed with it, and so is one whose
 *    every root field is null for that reason: there is nothing in it to use;
 *  - then the access log, one line per operation (request id, operation name and type, user,
 *    duration, status as sent, error codes, cost, cache outcome, SQL statements), and the
 *    matching metrics. Variables are not logged; the logger redacts tokens, passwords and
 *    email addresses anywhere.
 */
export function responsePlugin(metrics?: Metrics, log?: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(context) {
          setHttpStatus(context.response);
          logOperation(context, started, metrics, log);
        },
      };
    },
  };
}

function setHttpStatus(response: GraphQLRequestContextWillSendResponse<GraphQLContext>['response']): void {
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
}

function logOperation(
  {
    contextValue: ctx,
    operationName,
    operation,
    response,
    errors,
  }: GraphQLRequestContextWillSendResponse<GraphQLContext>,
  started: bigint,
  metrics?: Metrics,
  log?: Logger,
): void {
  const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
  recordOperation(
    ctx,
    {
      operationName,
      type: operation?.operation,
      status: response.http.status ?? 200,
      codes: (body?.errors ?? errors ?? []).map((e) => e.extensions?.code),
      cost: (body?.extensions?.cost as { requested?: number } | undefined)?.requested,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    },
    metrics,
    log,
  );
}

/** One operation's access-log line and metrics (Apollo's answers and the HTTP handler's known queries). */
export function recordOperation(
  ctx: GraphQLContext,
  op: {
    readonly operationName: string | null | undefined;
    readonly type: string | undefined;
    readonly status: number;
    readonly codes: readonly unknown[];
    readonly cost: number | undefined;
    readonly seconds: number;
  },
  metrics?: Metrics,
  log?: Logger,
): void {
  const { operationName, type, codes, seconds } = op;
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
      status: op.status,
      errors: codes.length ? codes : undefined,
      cost: op.cost,
      dbQueries: queriesInScope(),
      cache: ctx.cacheOutcome,
    },
    'graphql request',
  );
}
