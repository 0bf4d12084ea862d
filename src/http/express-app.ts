import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import cors, { type CorsOptions } from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../config/config.js';
import type { GraphQLContext, HttpRequestInfo } from '../context.js';
import { withQueryScope } from '../db/query-stats.js';
import { routingReads } from '../db/replicas/read-route.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { metricsAccess } from '../observability/metrics-guard.js';
import { mountApiPage } from './api-page.js';
import { mountExplorer } from './explorer.js';
import { isOriginAllowed } from './origins.js';
import { persistedQueryShape } from './persisted-query-shape.js';
import { mountSandbox } from './sandbox.js';
import { requestId } from './request-id.js';
import { apiSecurityHeaders } from './security-headers.js';
import { withTimeout } from '../util/with-timeout.js';
import type { Deadline, OperationDeadlines } from './operation-deadline.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The GraphQL request's deadline (operation timeout, abort signal). */
    deadline?: Deadline;
  }
}

export interface HealthCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface ExpressAppDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly readiness: readonly HealthCheck[];
  readonly isDraining: () => boolean;
  readonly contextFor: (req: HttpRequestInfo) => Promise<GraphQLContext>;
  readonly metrics: Metrics;
  /** The operation timeout and abort signal of every GraphQL request (shared with the hot path). */
  readonly deadlines: OperationDeadlines;
  /** Preloaded in the explorer and in Sandbox. */
  readonly exampleQuery: string;
  /** Further GET routes of the modules (certificate PDFs), mounted before /graphql. */
  readonly routes?: ReadonlyArray<(app: express.Express) => void>;
}

/** CORS for /graphql (Express and the hot path, http/graphql-handler.ts). */
export function corsOptions(config: Config): CorsOptions {
  return {
    origin: (origin, done) => done(null, isOriginAllowed(config, origin)),
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: [
      'Content-Type',
      'Authorization',
      'X-Request-ID',
      'Apollo-Require-Preflight',
      'X-Apollo-Operation-Name',
    ],
    exposedHeaders: ['X-Request-ID', 'X-Cache', 'Retry-After'],
    maxAge: 600,
  };
}

export function createExpressApp(deps: ExpressAppDeps): express.Express {
  const { config, log } = deps;
  const app = express();
  const routesReads = config.db.kind === 'postgres' && config.db.replicas !== undefined;
  app.disable('x-powered-by');
  if (config.http.trustProxy !== undefined) app.set('trust proxy', config.http.trustProxy);
  app.use(requestId);
  // The JSON API's security headers everywhere; the explorer and /sandbox pages replace them
  // with helmet's set and their own content security policy (see explorer.ts and sandbox.ts).
  app.use(apiSecurityHeaders(app.get('trust proxy fn') as (addr: string, hop: number) => boolean));
  app.use((req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer({ method: req.method });
    res.on('finish', () =>
      end({ path: KNOWN_PATHS.has(req.path) ? req.path : 'other', status: String(res.statusCode) }),
    );
    next();
  });

  app.get('/metrics', async (req, res) => {
    const access = metricsAccess(config, req.header('authorization'));
    if (access === 404) {
      res
        .status(404)
        .json({ errors: [{ message: 'Not found; the API is at /graphql', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    if (access === 401) {
      res.status(401).json({ errors: [{ message: 'Bearer token required', extensions: { code: 'UNAUTHENTICATED' } }] });
      return;
    }
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });

  app.get('/ready', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ready = !deps.isDraining();
    if (!ready) checks.server = 'draining';
    await Promise.all(
      deps.readiness.map(async (c) => {
        try {
          await withTimeout(c.check(), 2_000);
          checks[c.name] = 'ok';
        } catch (err) {
          ready = false;
          checks[c.name] = 'unavailable';
          log.warn({ err, check: c.name }, 'readiness check failed');
        }
      }),
    );
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });

  for (const mount of deps.routes ?? []) mount(app);

  // Development pages: the explorer (offline, from npm) at /graphql and Apollo Sandbox at
  // /sandbox. Off in production, like introspection.
  if (config.graphql.landingPage) {
    mountExplorer(app, deps.exampleQuery);
    mountSandbox(app, deps.exampleQuery);
  } else {
    mountApiPage(app);
  }

  app.use(
    '/graphql',
    cors(corsOptions(config)),
    operationTimeout(deps.deadlines),
    express.json({ limit: config.http.bodyLimitBytes }),
    persistedQueryShape,
    // Per-request SQL counts ride on AsyncLocalStorage, whose promise hooks slow every
    // promise in the process (about a fifth of subscription fan-out time): opt-in.
    (_req: Request, _res: Response, next: NextFunction) =>
      routingReads(routesReads, () => (config.logQueryCounts ? withQueryScope(() => next()) : next())),
    expressMiddleware(deps.apollo, {
      context: async ({ req }) =>
        deps.contextFor({
          authorization: req.header('authorization'),
          requestId: req.requestId,
          ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
          userAgent: req.header('user-agent') ?? null,
          guard: req.deadline?.guard,
        }),
    }),
  );

  app.use((_req, res) => {
    res
      .status(404)
      .json({ errors: [{ message: 'Not found; the API is at /graphql', extensions: { code: 'NOT_FOUND' } }] });
  });

  // Body-parser and other middleware errors: a JSON answer with a 4xx, never an HTML page or a stack.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    const message =
      e.type === 'entity.too.large'
        ? `Request body larger than ${config.http.bodyLimitBytes} bytes`
        : e.type === 'entity.parse.failed'
          ? 'Request body is not valid JSON'
          : status < 500
            ? (e.message ?? 'Bad request')
            : 'Internal server error';
    if (status >= 500) log.error({ err, requestId: req.requestId }, 'unhandled HTTP error');
    res
      .status(status)
      .json({ errors: [{ message, extensions: { code: status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR' } }] });
  });

  return app;
}

/** Constant-time comparison of `Bearer <token>` (the metrics token is a shared secret). */
const KNOWN_PATHS = new Set(['/graphql', '/health', '/ready', '/metrics']);

/**
 * A request still running at the operation timeout (or in flight when the database circuit
 * opens) is given up: its transactions are aborted, and it is answered 503
 * SERVICE_UNAVAILABLE with Retry-After (reason TIMEOUT, DATABASE_UNAVAILABLE, or
 * OUTCOME_UNKNOWN when a COMMIT went unanswered); what the handler writes later is dropped.
 */
function operationTimeout(deadlines: OperationDeadlines) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = res.end.bind(res) as (body: string) => Response;
    const setHeader = res.setHeader.bind(res);
    const deadline = deadlines.start(
      (status, headers, body) => {
        if (res.headersSent) return;
        res.statusCode = status;
        for (const [name, value] of headers) setHeader(name, value);
        end(body);
      },
      () => {
        const ignore = () => res;
        Object.assign(res, {
          status: ignore,
          set: ignore,
          setHeader: ignore,
          send: ignore,
          json: ignore,
          end: ignore,
          write: () => true,
        });
      },
    );
    req.deadline = deadline;
    const clear = () => deadline.done();
    res.on('finish', clear);
    res.on('close', clear);
    next();
  };
}
