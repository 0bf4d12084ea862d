import type { IncomingMessage, Server } from 'node:http';
import {
  execute,
  getOperationAST,
  GraphQLError,
  specifiedRules,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode, type Context, type SubscribePayload } from 'graphql-ws';
import proxyAddr from 'proxy-addr';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TokenService } from '../auth/tokens.js';
import { ANONYMOUS, type Viewer } from '../auth/viewer.js';
import type { Config } from '../config/config.js';
import type { GraphQLContext, SocketOperation } from '../context.js';
import { createErrorFormatter } from '../errors/format-error.js';
import { DocumentCache, withCode } from '../graphql/document-cache.js';
import { NoIntrospection } from '../graphql/introspection-rule.js';
import { AppError } from '../errors/app-error.js';
import { budgetKey, type CostBudget } from '../graphql/cost-budget.js';
import { assertCostWithin, limitValidationRules } from '../graphql/limits.js';
import { isOriginAllowed } from '../http/origins.js';
import type { Deadline, OperationDeadlines } from '../http/operation-deadline.js';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../logging/logger.js';
import { TimeoutError } from '../util/with-timeout.js';
import { createAudienceSubscribe } from './audience.js';
import { ExpiryTimers } from './expiry-timers.js';
import { Fanout } from './fanout.js';
import { serveGraphQLWs, type SocketExtra } from './ws-adapter.js';
import { socketRequestId, wsLog, type SocketLogState } from './ws-log.js';

/**
 * GraphQL over WebSocket (graphql-transport-ws) on the HTTP server's port and path.
 *
 *  - Authentication in `connection_init`: `{ authorization: "Bearer <token>" }` (or
 *    `authToken`). A bad or expired token, or one whose session has ended, closes the
 *    socket with 4403; no token means anonymous (subscriptions then answer UNAUTHENTICATED).
 *    When the session cannot be checked (database down or hung), the socket closes with
 *    1013 Try Again Later instead: the client retries, it does not sign in again.
 *  - The socket is closed with 4403 when its access token expires, and when the user's
 *    sessions end or role changes (`closeUserSockets`, driven over pub/sub from any instance).
 *  - The HTTP limits apply here too (Apollo's do not reach graphql-ws): message size, parse
 *    tokens, depth, aliases, directives and cost, checked in `onSubscribe`.
 *  - A client that does not keep up is disconnected (1008) rather than buffered without limit.
 */
export interface WsDeps {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly config: Config;
  readonly tokens: TokenService;
  readonly log: Logger;
  /** The context of one operation (see context.ts). */
  readonly contextFor: (socket: SocketOperation) => GraphQLContext;
  /**
   * Whether the token's session is still active (not logged out or revoked) and its role is
   * still the user's role: otherwise the client must refresh before it may connect. It must
   * settle within a few seconds, rejecting when the check cannot be made (its batches carry the
   * timeout: one timer per statement rather than one per connecting socket).
   */
  readonly sessionCurrent: (viewer: Viewer) => Promise<boolean>;
  /** Express's compiled `trust proxy` function, so sockets see the same client IP as HTTP. */
  readonly trustProxy: (addr: string, hop: number) => boolean;
  /** Invalidates response-cache tags (what a mutation over the socket changed). */
  readonly invalidate?: (tags: string[]) => Promise<void>;
  /** Per-caller query cost budget, shared with HTTP. */
  readonly costBudget?: CostBudget;
  readonly metrics?: Metrics;
  /**
   * The operation timeout and the database circuit, as over HTTP: a query or mutation given
   * up is answered SERVICE_UNAVAILABLE (its reason as over HTTP), and only after its
   * transactions rolled back; OUTCOME_UNKNOWN only when its COMMIT was in flight.
   */
  readonly deadlines?: OperationDeadlines;
}

/** A query or mutation under its deadline: the give-up answer, when it comes, replaces its own. */
interface Guarded {
  readonly deadline: Deadline;
  readonly givenUp: Promise<ExecutionResult>;
}

export interface WsServer {
  /** Closes the user's sockets (only those of `sessionIds` when given); returns how many. */
  closeUserSockets(userId: string, reason: string, sessionIds?: readonly string[]): number;
  readonly connections: number;
  readonly subscriptions: number;
  /** Of those, the ones authorized and listening (served by the fan-out). */
  readonly liveSubscriptions: number;
  close(): Promise<void>;
}

interface Extra extends SocketExtra, SocketLogState, Record<PropertyKey, unknown> {
  viewer?: Viewer;
  /** Ids of this socket's running subscriptions. */
  subscriptions?: Set<string>;
  /** Ids whose `subscribe` is being checked (the cost budget is asynchronous). */
  pending?: Set<string>;
}

const MAX_MESSAGE_BYTES = 64 * 1024;
/** RFC 6455 close code 1013: a temporary condition on our side; graphql-ws clients retry it. */
const TRY_AGAIN_LATER = 1013;
/** How long shutdown waits for clients to acknowledge the close before cutting them off. */
const CLOSE_GRACE_MS = 2_000;

/** Past this much unsent data on one socket, the client is too slow and is disconnected. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export function startGraphQLWs(deps: WsDeps): WsServer {
  const { config, schema, log } = deps;
  const logs = wsLog(log);
  const formatError = createErrorFormatter(log, { hideSuggestions: !config.graphql.introspection });
  const format = (err: GraphQLError, requestId?: string) => {
    const formatted = formatError(err.toJSON(), err, requestId);
    deps.metrics?.errors.inc({ code: String(formatted.extensions?.code ?? 'UNKNOWN') });
    return formatted;
  };
  const rules = [
    ...specifiedRules,
    ...limitValidationRules(config.graphql),
    // What Apollo's `introspection: false` does on HTTP.
    ...(config.graphql.introspection ? [] : [NoIntrospection]),
  ];
  const audienceSubscribe = createAudienceSubscribe(schema);
  const fanout = new Fanout(schema, {
    maxBufferedBytes: MAX_BUFFERED_BYTES,
    maxQueued: config.graphql.subscriptionMaxQueued,
    delivered: (n) => deps.metrics?.eventsDelivered.inc(n),
  });
  const costOf = costMemo(config, schema);
  const guarded = new WeakMap<object, Guarded>();
  const documents = new DocumentCache(schema, rules, config.graphql.maxTokens);
  /** Each signed-in user's sockets (their extras: the viewer names the session, which may be ended alone). */
  const byUser = new Map<string, Set<Extra>>();
  const socketsByIp = new Map<string, number>();
  const subscriptionsByCaller = new Map<string, number>();
  let subscriptionCount = 0;
  const { maxSocketsPerIp, maxSubscriptionsPerUser } = config.graphql;
  const ipOf = (req: IncomingMessage) => proxyAddr(req, deps.trustProxy);
  /** Closes each socket when its access token expires: one timer for all of them. */
  const expiries = new ExpiryTimers<WebSocket>((socket) => socket.close(CloseCode.Forbidden, 'Access token expired'));

  const wss = new WebSocketServer({
    server: deps.httpServer,
    path: '/graphql',
    maxPayload: MAX_MESSAGE_BYTES,
    // Browsers send Origin on WebSocket upgrades and CORS does not apply to them: the same
    // allow-list is enforced here. Then a bound on sockets per client address.
    verifyClient: ({ origin, req }, done) => {
      if (!isOriginAllowed(config, origin || undefined)) return done(false, 403, 'Origin not allowed');
      if (maxSocketsPerIp && (socketsByIp.get(ipOf(req)) ?? 0) >= maxSocketsPerIp)
        return done(false, 429, 'Too many connections from this address');
      done(true);
    },
  });
  /** Counts the socket against its address; the extra graphql-ws keeps is this, not the upgrade request. */
  const extraOf = (socket: WebSocket, req: IncomingMessage): Extra => {
    const ip = ipOf(req);
    socketsByIp.set(ip, (socketsByIp.get(ip) ?? 0) + 1);
    return {
      socket,
      ip,
      userAgent: req.headers['user-agent'] ?? null,
      requestId: socketRequestId(req),
      openedAt: performance.now(),
    };
  };
  /** A socket closed (the adapter's one 'close' listener): its address count, its registrations. */
  const closed = (extra: Extra, code: number, reason: string) => {
    logs.closed(extra, code, reason);
    const n = (socketsByIp.get(extra.ip) ?? 1) - 1;
    if (n > 0) socketsByIp.set(extra.ip, n);
    else socketsByIp.delete(extra.ip);
    forget(extra);
  };
  const callerOf = (extra: Extra) => extra.viewer?.userId ?? `ip:${extra.ip}`;
  const subscriptionEnded = (extra: Extra, id: string) => {
    if (!extra.subscriptions?.delete(id)) return;
    logs.subscriptionEnded(extra, id);
    subscriptionCount--;
    const caller = callerOf(extra);
    const n = (subscriptionsByCaller.get(caller) ?? 1) - 1;
    if (n > 0) subscriptionsByCaller.set(caller, n);
    else subscriptionsByCaller.delete(caller);
  };

  const forget = (extra: Extra) => {
    expiries.remove(extra.socket, extra.viewer?.tokenExpiresAt);
    for (const id of [...(extra.subscriptions ?? [])]) subscriptionEnded(extra, id);
    const userId = extra.viewer?.userId;
    if (userId) {
      byUser.get(userId)?.delete(extra);
      if (byUser.get(userId)?.size === 0) byUser.delete(userId);
    }
  };

  /** Limits, budget and caps for one `subscribe`: its execution arguments, or why not. */
  const checkOperation = async (
    ctx: Context<Record<string, unknown> | undefined, Extra>,
    id: string,
    payload: SubscribePayload,
  ): Promise<readonly GraphQLError[] | ExecutionArgs> => {
    const { document, errors } = documents.check(payload.query);
    if (errors) return errors;
    const operation = getOperationAST(document, payload.operationName);
    if (!operation)
      return [withCode(new GraphQLError('Unable to identify the operation to run'), 'GRAPHQL_VALIDATION_FAILED')];
    try {
      const cost = costOf(document, payload.variables ?? undefined, payload.operationName);
      await deps.costBudget?.spend(budgetKey(ctx.extra.viewer ?? ANONYMOUS, ctx.extra.ip), cost);
    } catch (err) {
      if (err instanceof AppError) return [err.toGraphQLError()];
      return [err as GraphQLError];
    }
    if (operation.operation === 'subscription') {
      // Closed while the budget was checked: its clean-up already ran; count nothing.
      if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return [new GraphQLError('The connection closed')];
      const caller = callerOf(ctx.extra);
      const open = subscriptionsByCaller.get(caller) ?? 0;
      if (maxSubscriptionsPerUser && open >= maxSubscriptionsPerUser) {
        const message = `At most ${maxSubscriptionsPerUser} subscriptions may be open at once; complete one first`;
        return [
          new GraphQLError(message, {
            extensions: { code: 'RATE_LIMITED', maxSubscriptions: maxSubscriptionsPerUser },
          }),
        ];
      }
      subscriptionsByCaller.set(caller, open + 1);
      subscriptionCount++;
      (ctx.extra.subscriptions ??= new Set()).add(id);
      logs.subscriptionStarted(ctx.extra, id, payload.operationName ?? operation.name?.value);
    }
    const { socket } = ctx.extra;
    const underDeadline = operation.operation !== 'subscription' ? startDeadline(deps.deadlines) : undefined;
    const contextValue = deps.contextFor({
      viewer: ctx.extra.viewer,
      ip: ctx.extra.ip,
      userAgent: ctx.extra.userAgent,
      requestId: ctx.extra.requestId,
      disconnect: (code, reason) => socket.close(code, reason),
      guard: underDeadline?.deadline.guard,
    });
    if (underDeadline) guarded.set(contextValue, underDeadline);
    const args: ExecutionArgs = {
      schema,
      document,
      variableValues: payload.variables,
      operationName: payload.operationName,
      contextValue,
    };
    // Live services that authorize in bulk write to the socket through this (ws/fanout.ts).
    if (operation.operation === 'subscription') contextValue.sink = fanout.sinkFor(socket, id, args);
    return args;
  };

  const server = serveGraphQLWs<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      // Subscribers who would read the same payload share one execution of each event.
      subscribe: audienceSubscribe,
      execute: async (args) => {
        const under = guarded.get(args.contextValue as object);
        if (!under) return execute(args);
        try {
          const result = await Promise.race([execute(args), under.givenUp]);
          // Given up while it ran: its own answer (errors of the aborted work) is dropped.
          return under.deadline.givenUp ? await under.givenUp : result;
        } finally {
          under.deadline.done();
        }
      },
      connectionInitWaitTimeout: config.graphql.wsConnectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const viewer = await verifiedViewer(deps, ctx.connectionParams);
        // The token is checked once; the socket keeps the viewer, not the credentials.
        (ctx as { connectionParams?: unknown }).connectionParams = undefined;
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        // The client may have gone while we checked its token: register nothing for it then.
        const { socket } = ctx.extra;
        if (socket.readyState !== socket.OPEN) return false;
        ctx.extra.viewer = viewer;
        if (viewer.userId) {
          // Registered before the session is checked: a logout or role change committed while
          // the check runs either shows in the check or closes this socket through byUser.
          (byUser.get(viewer.userId) ?? byUser.set(viewer.userId, new Set()).get(viewer.userId)!).add(ctx.extra);
          // Bounded by `sessionCurrent`. A check that fails or times out (the database is down
          // or hung) is our outage, not the client's fault: 1013 Try Again Later, which clients
          // retry (4403 and graphql-ws' own 4500 would send them to sign in again, or make them give up).
          const current = await deps.sessionCurrent(viewer).catch((err: unknown) => {
            deps.log.warn(
              { err, timedOut: err instanceof TimeoutError },
              'WebSocket session check failed; asking the client to retry',
            );
            return 'unavailable' as const;
          });
          if (current !== true || socket.readyState !== socket.OPEN) {
            forget(ctx.extra);
            if (current === 'unavailable') socket.close(TRY_AGAIN_LATER, 'Service unavailable: try again later');
            return false;
          }
        }
        if (viewer.tokenExpiresAt) expiries.add(socket, viewer.tokenExpiresAt);
        logs.opened(ctx.extra);
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        // An id may not be reused while its first `subscribe` is still being checked (graphql-ws
        // only knows it once we return): the two would share one record and leak the first.
        const pending = (ctx.extra.pending ??= new Set());
        if (pending.has(id) || ctx.extra.subscriptions?.has(id)) {
          return [withCode(new GraphQLError(`Operation id "${id}" is already in use`), 'BAD_USER_INPUT')];
        }
        pending.add(id);
        try {
          const checked = await checkOperation(ctx, id, payload);
          if (Array.isArray(checked)) logs.refused(ctx.extra, id, payload.operationName, checked);
          return checked;
        } finally {
          pending.delete(id);
        }
      },
      onComplete: (ctx, id) => subscriptionEnded(ctx.extra, id),
      onNext: async (ctx, id, _payload, args, result: ExecutionResult) => {
        // A mutation over the socket invalidates the response cache before its result is sent,
        // as over HTTP.
        const { changes, requestId } = args.contextValue as GraphQLContext;
        if (changes?.size) {
          await deps.invalidate?.([...changes]);
          changes.clear();
        }
        const operation = getOperationAST(args.document, args.operationName);
        if (operation?.operation === 'subscription') deps.metrics?.eventsDelivered.inc();
        logs.operation(ctx.extra, id, operation?.name?.value, operation?.operation ?? 'query', result.errors);
        if (ctx.extra.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
          ctx.extra.socket.close(1008, 'Slow consumer: send buffer full');
        }
        return result.errors ? { ...result, errors: result.errors.map((err) => format(err, requestId)) } : result;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((err) => format(err)),
    },
    wss,
    extraOf,
    { isProd: config.isProduction, onClose: closed },
  );

  return {
    closeUserSockets(userId, reason, sessionIds) {
      const only = sessionIds ? new Set(sessionIds) : null;
      const extras = [...(byUser.get(userId) ?? [])].filter((e) => !only || only.has(e.viewer?.sessionId ?? ''));
      for (const { socket } of extras) socket.close(CloseCode.Forbidden, reason);
      return extras.length;
    },
    get connections() {
      return wss.clients.size;
    },
    get subscriptions() {
      return subscriptionCount;
    },
    get liveSubscriptions() {
      return fanout.live;
    },
    close: async () => {
      // Clients that never acknowledge the close (a dropped network) must not hold up shutdown.
      expiries.clear();
      await Promise.race([server.dispose(), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
      for (const socket of wss.clients) socket.terminate();
    },
  };
}

/**
 * The cost of an operation depends only on its document, variables and operation name: it is
 * computed once per distinct combination (thousands of sockets subscribe with the same one).
 * Bounded per document; a document over the budget throws the same error every time.
 */
function costMemo(config: Config, schema: GraphQLSchema) {
  const MAX_PER_DOCUMENT = 64;
  const memo = new WeakMap<DocumentNode, Map<string, number | Error>>();
  return (document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null) => {
    let byVariables = memo.get(document);
    if (!byVariables) memo.set(document, (byVariables = new Map()));
    const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? null)}`;
    let cost = byVariables.get(key);
    if (cost === undefined) {
      try {
        cost = assertCostWithin(config.graphql, schema, document, variables, operationName);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        cost = err;
      }
      if (byVariables.size >= MAX_PER_DOCUMENT) byVariables.delete(byVariables.keys().next().value!);
      byVariables.set(key, cost);
    }
    if (cost instanceof Error) throw cost;
    return cost;
  };
}

/** The viewer a connection's token names, or null when credentials are present but no good. */
async function verifiedViewer(deps: WsDeps, params: Record<string, unknown> | undefined): Promise<Viewer | null> {
  const raw = params?.authorization ?? params?.Authorization ?? params?.authToken;
  if (raw === undefined || raw === null || raw === '') return ANONYMOUS;
  if (typeof raw !== 'string') return null;
  return deps.tokens
    .viewerFromAuthorization(/^bearer\s/i.test(raw) ? raw : `Bearer ${raw}`, ANONYMOUS)
    .catch(() => null);
}

/** A deadline for one query or mutation: its give-up answer as the operation's result. */
function startDeadline(deadlines: OperationDeadlines | undefined): Guarded | undefined {
  if (!deadlines) return undefined;
  let answer!: (result: ExecutionResult) => void;
  const givenUp = new Promise<ExecutionResult>((resolve) => (answer = resolve));
  const deadline = deadlines.start((_status, _headers, body) => {
    const { errors } = JSON.parse(body) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    answer({ errors: errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions })) });
  });
  return { deadline, givenUp };
}
