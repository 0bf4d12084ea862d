import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { ContainerType } from './graphql/type-graphql.js';
import { loadOrCreateEmbeddedSecret } from './auth/embedded-secret.js';
import { TokenService } from './auth/tokens.js';
import { ANONYMOUS, type Viewer } from './auth/viewer.js';
import type { Config } from './config/config.js';
import { createLoaders, type GraphQLContext } from './context.js';
import { createDatabase, type Database } from './db/client.js';
import { AppError } from './errors/app-error.js';
import { createErrorFormatter } from './errors/format-error.js';
import { NodeResolver } from './graphql/node.resolver.js';
import { limitValidationRules, parseOptions } from './graphql/limits.js';
import { costLimitPlugin, httpStatusPlugin, requestLoggingPlugin } from './http/apollo-plugins.js';
import { createExpressApp, type HealthCheck } from './http/express-app.js';
import { createConfiguredLogger, type Logger } from './logging/logger.js';
import { CourseCommands, CourseResolver, CourseService } from './modules/courses/index.js';
import { EnrollmentCommands, EnrollmentResolver, EnrollmentService } from './modules/enrollments/index.js';
import {
  LessonCommands,
  LessonEvents,
  LessonLifecycle,
  LessonLive,
  LessonResolver,
  LessonService,
  LessonStatusChangeResolver,
} from './modules/lessons/index.js';
import { ensureAdmin, UserResolver, UserService } from './modules/users/index.js';
import { AccountResolver, AccountService, isSessionCurrent } from './modules/accounts/index.js';
import { NotificationLive, NotificationResolver, NotificationService, UserNotificationsResolver } from './modules/notifications/index.js';
import { PlatformResolver } from './modules/platform/index.js';
import { startBackgroundWork, type BackgroundWork } from './background.js';
import { createJobQueue, type JobQueue } from './queue/index.js';
import { CostBudget } from './graphql/cost-budget.js';
import { Metrics, type MetricSources } from './observability/metrics.js';
import { ErrorsAreMissesCache } from '@apollo/utils.keyvaluecache';
import { RedisApqStore } from './cache/apq-store.js';
import { ResponseCache } from './cache/response-cache.js';
import { MemoryResponseStore, RedisResponseStore } from './cache/response-store.js';
import { createEventBus } from './pubsub/event-bus.js';
import { Topics, type SessionsEvent } from './pubsub/topics.js';
import { typeGraphQLPubSub } from './pubsub/type-graphql-pubsub.js';
import { startGraphQLWs, type WsServer } from './ws/graphql-ws.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { createRedis } from './redis/redis.js';
import { MemoryAttemptStore } from './throttle/attempt-store.js';
import { RedisAttemptStore } from './throttle/redis-attempt-store.js';
import { FallbackAttemptStore } from './throttle/fallback-attempt-store.js';
import { buildAppSchema } from './schema.js';
import { isDatabaseEmpty, seedDemoData } from './seed/demo-data.js';

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
  readonly background: { readonly jobs: JobQueue; readonly work: BackgroundWork } | undefined;
  /** Starts listening; resolves with the GraphQL endpoint URL. */
  listen(): Promise<string>;
  /** Stops accepting, drains in-flight requests, closes pools. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The composition root: builds every singleton in order (database, tokens, services,
 * resolvers, schema, Apollo, HTTP) and hands the resolvers to type-graphql's container.
 * Per-request things (viewer, loaders, logger) travel in the context only.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createConfiguredLogger(config);
  const live: MetricSources = {};
  const metrics = new Metrics(live);
  const onQuery = (sql: string) => {
    metrics.sqlStatements.inc();
    options.onQuery?.(sql);
  };
  const database = createDatabase(config, log.child({ module: 'db' }), { onQuery });
  try {
    return await assemble(config, log, database, metrics, live);
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}

async function assemble(config: Config, log: Logger, database: Database, metrics: Metrics, sources: MetricSources): Promise<App> {
  const { db } = database;
  // Progress lines: a first start (embedded database created, migrated and seeded) takes
  // seconds, and a silent terminal looks like a hang.
  const step = startupSteps(log);
  if (config.db.migrateOnStart) {
    step(config.db.kind === 'pglite' ? `opening the embedded database in ${config.dataDir} and applying migrations (the first start creates it)` : 'applying database migrations');
    await database.migrate();
  }
  if (config.admin) await ensureAdmin(db, config.admin, log);
  if (config.seedDemoData && (await isDatabaseEmpty(db))) {
    step('loading the demo catalog');
    log.info({ added: await seedDemoData(db) }, 'demo data loaded');
  }
  step('building the schema and connecting services');

  const tokens = new TokenService({
    secret: config.auth.jwtSecret ?? (config.auth.jwtPrivateKey ? undefined : loadOrCreateEmbeddedSecret(config.dataDir)),
    previousSecret: config.auth.jwtPreviousSecret,
    privateKeyPem: config.auth.jwtPrivateKey,
    previousPublicKeyPem: config.auth.jwtPreviousPublicKey,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
  });

  // Throttle counters are volatile: they live on the cache Redis (CACHE_REDIS_URL, else REDIS_URL).
  const commandTimeoutMs = config.redis?.commandTimeoutMs;
  const redis = config.redis ? createRedis(config.redis.cacheUrl, config.redis.keyPrefix, log, 'commands', { commandTimeoutMs }) : undefined;
  // The response cache and APQ: a connection that fails fast, so an outage costs a request
  // at most the cache timeout.
  const cacheRedis = config.redis ? createRedis(config.redis.cacheUrl, config.redis.keyPrefix, log, 'cache', { failFast: true, commandTimeoutMs }) : undefined;
  const costBudget = config.graphql.costBudgetPerMinute > 0 ? new CostBudget(config.graphql.costBudgetPerMinute, redis, log.child({ module: 'budget' })) : undefined;
  let responseCache: ResponseCache | undefined; // built with the schema, below
  const attemptStore = redis ? new FallbackAttemptStore(new RedisAttemptStore(redis), log.child({ module: 'throttle' })) : new MemoryAttemptStore();
  const throttle = new LoginThrottle(attemptStore, {
    freeAttempts: config.auth.loginMaxAttempts,
    registrationsPerHour: config.auth.registrationsPerHour,
  });

  const users = new UserService(db);
  const courses = new CourseService(db);
  const lessons = new LessonService();
  const enrollments = new EnrollmentService();
  const notifications = new NotificationService(db);
  const bus = createEventBus(config, log.child({ module: 'pubsub' }));
  const publish = (topic: string, payload: object) =>
    bus.publish(topic, payload).catch((err: unknown) => log.error({ err, topic }, 'publish failed'));
  const follow = (userId: string, courseId: string) => void publish(Topics.userFollows(userId), { courseId });
  const accounts = new AccountService({
    db,
    tokens,
    throttle,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    log,
    // Logout, password and role changes: sockets close everywhere, and the user's cached
    // responses go before the mutation answers.
    onSessionChange: async (event) => {
      void publish(Topics.sessions, event);
      await responseCache?.invalidate([`Viewer:${event.userId}`, `User:${event.userId}`]);
    },
  });
  const lessonEvents = new LessonEvents(bus, log);
  const courseCommands = new CourseCommands(db, follow);
  const lessonCommands = new LessonCommands(courseCommands, {
    created: (lesson, actorId) => void lessonEvents.statusChanged(lesson, null, actorId),
  });
  const lifecycle = new LessonLifecycle(lessonCommands, lessonEvents);
  const enrollmentCommands = new EnrollmentCommands(db, follow);
  const liveOptions = { maxQueued: config.graphql.subscriptionMaxQueued, log: log.child({ module: 'live' }) };
  const live = { lessons: new LessonLive(db, bus, liveOptions), notifications: new NotificationLive(db, bus, liveOptions) };

  const instances = new Map<Function, object>([
    [NodeResolver, new NodeResolver({ User: users, Course: courses, Lesson: lessons, Enrollment: enrollments, Notification: notifications })],
    [UserResolver, new UserResolver(users, courses, enrollments)],
    [AccountResolver, new AccountResolver(accounts)],
    [CourseResolver, new CourseResolver(courses, users, lessons, enrollments, courseCommands)],
    [LessonResolver, new LessonResolver(lessons, courses, lessonCommands, lifecycle)],
    [LessonStatusChangeResolver, new LessonStatusChangeResolver()],
    [EnrollmentResolver, new EnrollmentResolver(enrollments, users, courses, enrollmentCommands)],
    [NotificationResolver, new NotificationResolver(notifications)],
    [UserNotificationsResolver, new UserNotificationsResolver(notifications)],
    [PlatformResolver, new PlatformResolver(db)],
  ]);
  const container: ContainerType = {
    get(cls: Function) {
      const instance = instances.get(cls);
      if (!instance) throw new Error(`no instance registered for ${cls.name}`);
      return instance;
    },
  };
  const schema = await buildAppSchema(container, typeGraphQLPubSub(bus));
  responseCache = new ResponseCache(schema, cacheRedis ? new RedisResponseStore(cacheRedis) : new MemoryResponseStore(config.cache.maxEntries), {
    enabled: config.cache.enabled,
    timeoutMs: config.cache.timeoutMs,
    log: log.child({ module: 'cache' }),
    broadcastFailure: (tags) => void publish(Topics.cacheInvalidationFailed, { tags }),
  });
  const stopCacheFailures = await bus.subscribe(Topics.cacheInvalidationFailed, (payload) => responseCache!.adoptPending((payload as { tags: string[] }).tags));

  const httpServer = createServer();
  httpServer.requestTimeout = config.http.requestTimeoutMs;
  httpServer.headersTimeout = Math.min(config.http.requestTimeoutMs, 60_000);
  const limits = config.graphql;

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: config.graphql.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter(log, { hideSuggestions: !config.graphql.introspection }),
    validationRules: limitValidationRules(limits),
    parseOptions: parseOptions(limits),
    stopOnTerminationSignals: false,
    // Automatic persisted queries: in Redis when there is one (shared by every instance).
    persistedQueries: {
      ttl: config.cache.apqTtlSeconds,
      ...(cacheRedis ? { cache: new ErrorsAreMissesCache(new RedisApqStore(cacheRedis, config.cache.apqTtlSeconds, Math.max(config.cache.timeoutMs, 50)), log) } : {}),
    },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.http.shutdownGraceMs }),
      // Cache policies come from the schema's static @cacheControl hints, computed once per
      // document (see cache/cache-control.ts); Apollo's plugin would wrap every resolver.
      ApolloServerPluginCacheControlDisabled(),
      // The explorer and Sandbox are served by Express (http/explorer.ts), not by Apollo.
      ApolloServerPluginLandingPageDisabled(),
      costLimitPlugin(limits, () => schema, costBudget),
      responseCache.plugin(),
      httpStatusPlugin(), // before logging, so the logged status is the one sent
      requestLoggingPlugin(metrics),
    ],
  });
  await apollo.start();

  const viewerOf = async (authorization: string | undefined): Promise<Viewer> => {
    try {
      return await tokens.viewerFromAuthorization(authorization, ANONYMOUS);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      throw err.toGraphQLError({ status: 401, headers: new Map([['www-authenticate', 'Bearer error="invalid_token"']]) });
    }
  };

  const contextFor = async (req: Request): Promise<GraphQLContext> => {
    const viewer = await viewerOf(req.header('authorization'));
    return {
      viewer,
      loaders: createLoaders(db, viewer),
      requestId: req.requestId,
      log: log.child({ requestId: req.requestId, userId: viewer.userId ?? undefined }),
      client: { ip: req.ip ?? req.socket.remoteAddress ?? 'unknown', userAgent: req.header('user-agent') ?? null },
      signedIn: new Set(),
      changes: new Set(),
    };
  };

  let draining = false;
  const readiness: HealthCheck[] = [{ name: 'database', check: () => database.ping() }];
  if (redis) readiness.push({ name: 'redis', check: async () => void (await redis.ping()) });
  const expressApp = createExpressApp({ config, log, apollo, readiness, isDraining: () => draining, contextFor, metrics, exampleQuery: EXAMPLE_QUERY });

  const ws = startGraphQLWs({
    httpServer,
    schema,
    config,
    tokens,
    db,
    log: log.child({ module: 'ws' }),
    live,
    sessionCurrent: async ({ sessionId, userId, role }) =>
      sessionId !== null && userId !== null && role !== null && isSessionCurrent(db, sessionId, userId, role),
    trustProxy: expressApp.get('trust proxy fn') as (addr: string, hop: number) => boolean,
    costBudget,
    metrics,
    invalidate: (tags) => responseCache!.invalidate(tags),
  });
  sources.wsConnections = () => ws.connections;
  sources.wsSubscriptions = () => ws.subscriptions;
  sources.cache = () => responseCache!.stats;
  // Logout, password changes and role changes close the user's sockets on every instance.
  const stopSessions = await bus.subscribe(Topics.sessions, (payload) => {
    const { userId, reason } = payload as SessionsEvent;
    const closed = ws.closeUserSockets(userId, reason === 'ROLE_CHANGED' ? 'Role changed' : 'Session ended');
    if (closed) log.info({ userId, reason, closed }, 'closed sockets of a user');
  });

  // The outbox relay and job processors, unless this deployment runs them in `npm run worker`.
  // Expired sessions, old notifications and outbox rows are cleaned up by a repeatable job.
  let background: App['background'];
  let queueReader: JobQueue | undefined;
  if (config.notifications.workerInProcess) {
    const jobs = createJobQueue(config, log.child({ module: 'queue' }));
    try {
      background = { jobs, work: await startBackgroundWork({ config, log, database, jobs, bus, metrics }) };
    } catch (err) {
      await jobs.close().catch(() => {});
      throw err;
    }
    readiness.push({ name: 'queue', check: async () => void (await jobs.counts()) });
    sources.queueCounts = () => jobs.counts();
  } else if (config.redis) {
    // Workers run elsewhere; this process still reports the queues' depth in /metrics.
    queueReader = createJobQueue(config, log.child({ module: 'queue' }));
    sources.queueCounts = () => queueReader!.counts();
  }
  httpServer.on('request', expressApp);

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
    listen: () =>
      new Promise<string>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.http.port, config.http.host, () => {
          const { port } = httpServer.address() as AddressInfo;
          const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? 'localhost' : config.http.host;
          resolve(config.http.publicUrl ?? `http://${host}:${port}/graphql`);
        });
      }),
    close: () =>
      (closing ??= (async () => {
        draining = true;
        stopSessions();
        stopCacheFailures();
        await queueReader?.close();
        // Workers stop taking jobs at once and finish the ones in hand while HTTP drains.
        await Promise.all([
          ws.close(), // 1001 to every socket; ones that do not answer are cut off after a grace period
          apollo.stop(), // the drain plugin stops accepting and waits for in-flight requests
          background?.work.close(),
        ]);
        await bus.close();
        responseCache?.close();
        cacheRedis?.disconnect();
        await attemptStore.close();
        redis?.disconnect();
        await database.close();
        log.info('shut down cleanly');
      })()),
  };
}

/** Logs each start-up step with the time the previous one took. */
function startupSteps(log: Logger) {
  let last = Date.now();
  return (next: string) => {
    const now = Date.now();
    log.info({ previousStepMs: now - last }, `starting: ${next}…`);
    last = now;
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
