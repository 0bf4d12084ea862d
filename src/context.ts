import { randomUUID } from 'node:crypto';
import type { DocumentNode, ExecutionResult, OperationDefinitionNode } from 'graphql';
import type { Revocations } from './auth/revocations.js';
import type { TokenService } from './auth/tokens.js';
import { ANONYMOUS, type Viewer } from './auth/viewer.js';
import type { Db } from './db/client.js';
import type { OperationGuard } from './db/operation-guard.js';
import { AppError } from './errors/app-error.js';
import type { CostReport } from './graphql/cost-budget.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { Logger } from './logging/logger.js';
import type { LessonLive } from './modules/lessons/index.js';
import type { NotificationLive } from './modules/notifications/index.js';
import type { CourseStatsLive } from './modules/progress/index.js';
import type { QuizGradedLive } from './modules/quizzes/quiz.live.js';
import type { LiveSink } from './pubsub/live-sink.js';
import type { ClientInfo, RequestScope } from './request-scope.js';

/**
 * The GraphQL context, the same shape over HTTP and WebSocket. For a subscription, `viewer`
 * and `loaders` are replaced before each event is resolved (fresh role, fresh data), which is
 * safe because graphql-js resolves one event of a subscription at a time.
 */
export interface GraphQLContext extends RequestScope {
  viewer: Viewer;
  loaders: Loaders;
  readonly requestId: string;
  readonly log: Logger;
  readonly client: ClientInfo;
  /** WebSocket only: the live services subscriptions are served from. */
  readonly live?: LiveServices;
  /** WebSocket only: closes the connection (slow consumers). */
  readonly disconnect?: (code: number, reason: string) => void;
  /**
   * Subscriptions: the viewer facts the current event was authorized with (role and relation
   * to its course), set by the live service before each event. Subscribers of one document
   * and audience share one execution of the event (ws/audience.ts); unset, each executes.
   */
  audience?: string;
  /**
   * WebSocket subscriptions: the socket's direct fan-out sink (ws/fanout.ts). A live service
   * that authorizes events in bulk delivers through it instead of a per-subscriber stream.
   */
  sink?: LiveSink;
  /** Response cache: entity tags seen while executing a cacheable query (set on a miss). */
  cacheTags?: Set<string>;
  /** Response cache: what happened to this request (for the log). */
  cacheOutcome?: 'HIT' | 'MISS' | 'BYPASS';
  /**
   * HTTP: what the response cache and the cost check worked out for this operation, so the
   * HTTP handler can answer the same request body's next cache hit before Apollo runs
   * (http/graphql-handler.ts). A holder object: Apollo runs each operation on a shallow copy
   * of the context, and the handler keeps the original.
   */
  readonly operationFacts?: OperationFacts;
}

interface OperationFacts {
  /** Set by the response cache for a query it may answer. */
  cacheable?: CacheableOperation;
  /** The operation's estimated cost (set by the cost check). */
  cost?: number;
  /**
   * Set for a query whose answer depends on its document alone (`{ __typename }`): its entry
   * text, `{"data":...}` (http/constant-operation.ts), and its operation's own name.
   */
  constant?: { readonly entry: string; readonly operationName: string | null };
  /**
   * Set for every query: what executing it again needs (the HTTP handler's known queries,
   * http/graphql-handler.ts). Apollo's own objects, referenced, not copied.
   */
  query?: KnownQuery;
  /**
   * Set by the HTTP handler when it executed the query itself and hands the result to Apollo
   * (an answer with errors, which Apollo formats) or saw it fail: Apollo's executor returns
   * this result (or fails so) instead of executing again, and the cost check reports this
   * budget instead of spending.
   */
  executed?:
    | { readonly result: ExecutionResult; readonly report: CostReport | undefined }
    | { readonly failed: unknown; readonly report: CostReport | undefined };
}

/** A query as Apollo resolved it, and the function that executes it in a context. */
export interface KnownQuery {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** As Apollo's executor receives them: the operation's own name, else the request's. */
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | undefined;
  readonly run: (query: KnownQuery, ctx: GraphQLContext) => Promise<ExecutionResult> | ExecutionResult;
}

/** A query the response cache may answer: its entry key (scope aside) and policy. */
export interface CacheableOperation {
  readonly entryKey: string;
  readonly maxAge: number;
  readonly scope: 'PUBLIC' | 'PRIVATE';
  /** The operation's own name (null when anonymous), for the log and the metrics. */
  readonly operationName: string | null;
}

/** What the HTTP layer hands over about a request: its headers and client, read once. */
export interface HttpRequestInfo {
  readonly authorization: string | undefined;
  readonly requestId: string;
  readonly ip: string;
  readonly userAgent: string | null;
  /** The request's operation guard (its deadline), which its transactions honour. */
  readonly guard?: OperationGuard;
}

export interface LiveServices {
  readonly lessons: LessonLive;
  readonly notifications: NotificationLive;
  readonly courseStats: CourseStatsLive;
  readonly quizGraded: QuizGradedLive;
}

/**
 * The context of one HTTP request: the viewer its bearer token names (a bad token is a 401
 * with `WWW-Authenticate`), fresh loaders, and a logger bound to the request id. `viewerOf`
 * alone serves cache hits answered before Apollo (they need the viewer and nothing else).
 */
export function httpContext(deps: {
  readonly db: Db;
  readonly tokens: TokenService;
  readonly log: Logger;
  /** Revoked sessions and role changes; checked when `revocationCheck` is on. */
  readonly revocations: Revocations;
  readonly revocationCheck: boolean;
}) {
  const { db, tokens, log, revocations, revocationCheck } = deps;
  const viewerOf = async (authorization: string | undefined): Promise<Viewer> => {
    try {
      const viewer = await tokens.viewerFromAuthorization(authorization, ANONYMOUS);
      if (revocationCheck && revocations.isRevoked(viewer)) {
        throw new AppError(
          'UNAUTHENTICATED',
          'Access token revoked (signed out, password or role changed); refresh the session or sign in again',
          { reason: 'TOKEN_REVOKED' },
        );
      }
      return viewer;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw err.toGraphQLError({
        status: 401,
        headers: new Map([['www-authenticate', 'Bearer error="invalid_token"']]),
      });
    }
  };

  const contextFor = async (req: HttpRequestInfo): Promise<GraphQLContext> => {
    const viewer = await viewerOf(req.authorization);
    const requestId = req.requestId;
    return new HttpContext(
      viewer,
      createLoaders(db, viewer),
      requestId,
      log,
      { ip: req.ip, userAgent: req.userAgent },
      req.guard,
    );
  };
  return { viewerOf, contextFor };
}

/**
 * An HTTP request's context. The logger is a getter on the prototype, made on first use (at
 * LOG_LEVEL=warn most requests never log): Apollo copies the context's own properties for
 * each operation (`Object.assign`), which would call an own getter every time.
 */
class HttpContext implements GraphQLContext {
  readonly signedIn = new Set<string>();
  readonly changes = new Set<string>();
  readonly operationFacts: OperationFacts = {};
  private requestLog: Logger | undefined;

  constructor(
    public viewer: Viewer,
    public loaders: Loaders,
    readonly requestId: string,
    private readonly rootLog: Logger,
    readonly client: ClientInfo,
    readonly guard: OperationGuard | undefined,
  ) {}

  get log(): Logger {
    return (this.requestLog ??= this.rootLog.child({
      requestId: this.requestId,
      userId: this.viewer.userId ?? undefined,
    }));
  }
}

/** What the WebSocket server knows of one operation's socket (its viewer was set at connect). */
export interface SocketOperation {
  readonly viewer: Viewer | undefined;
  readonly ip: string;
  readonly userAgent: string | null;
  /** The socket's request id (its upgrade's); every operation on the socket logs under it. */
  readonly requestId?: string;
  readonly disconnect: (code: number, reason: string) => void;
  /** Queries and mutations: the operation's guard (its deadline), which its transactions honour. */
  readonly guard?: OperationGuard;
}

/** The context of one operation over a WebSocket: the viewer checked in `connection_init`. */
export function wsContext(deps: WsContextDeps) {
  return (socket: SocketOperation): GraphQLContext => new WsContext(deps, socket);
}

interface WsContextDeps {
  readonly db: Db;
  readonly log: Logger;
  readonly live: LiveServices;
}

/**
 * Thousands of subscriptions stay open at once, most never logging nor touching a loader:
 * everything beyond the viewer is made on first use, and the accessors are shared methods
 * rather than closures per operation.
 */
class WsContext implements GraphQLContext {
  viewer: Viewer;
  readonly client: ClientInfo;
  readonly disconnect: (code: number, reason: string) => void;
  readonly guard: OperationGuard | undefined;
  audience?: string;
  sink?: LiveSink;
  cacheTags?: Set<string>;
  cacheOutcome?: 'HIT' | 'MISS' | 'BYPASS';
  private madeLoaders?: Loaders;
  private madeLog?: Logger;
  private madeRequestId?: string;
  private madeSignedIn?: Set<string>;
  private madeChanges?: Set<string>;

  constructor(
    private readonly deps: WsContextDeps,
    socket: SocketOperation,
  ) {
    this.viewer = socket.viewer ?? ANONYMOUS;
    this.client = { ip: socket.ip, userAgent: socket.userAgent };
    this.disconnect = socket.disconnect;
    this.guard = socket.guard;
    this.madeRequestId = socket.requestId;
  }

  get loaders(): Loaders {
    return (this.madeLoaders ??= createLoaders(this.deps.db, this.viewer));
  }
  set loaders(loaders: Loaders) {
    this.madeLoaders = loaders;
  }
  get requestId(): string {
    return (this.madeRequestId ??= randomUUID());
  }
  get log(): Logger {
    return (this.madeLog ??= this.deps.log.child({
      requestId: this.requestId,
      userId: this.viewer.userId ?? undefined,
      transport: 'ws',
    }));
  }
  get live(): LiveServices {
    return this.deps.live;
  }
  get signedIn(): Set<string> {
    return (this.madeSignedIn ??= new Set());
  }
  get changes(): Set<string> {
    return (this.madeChanges ??= new Set());
  }
}
