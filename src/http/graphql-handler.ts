import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import type { ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import proxyAddr from 'proxy-addr';
import type { Viewer } from '../auth/viewer.js';
import {
  cacheControlHeader,
  hitBody,
  ifNoneMatch,
  stringifyResult,
  type ResponseCache,
  type StoredHit,
} from '../cache/response-cache.js';
import type { Config } from '../config/config.js';
import type { CacheableOperation, GraphQLContext, HttpRequestInfo, KnownQuery } from '../context.js';
import { queriesInScope, withQueryScope } from '../db/query-stats.js';
import { routingReads } from '../db/replicas/read-route.js';
import { budgetKey, type CostBudget, type CostReport } from '../graphql/cost-budget.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { recordOperation } from './apollo-plugins.js';
import { corsOptions } from './express-app.js';
import type { Deadline, OperationDeadlines } from './operation-deadline.js';
import { isOriginAllowed } from './origins.js';
import { problemOfPersistedQuery } from './persisted-query-shape.js';
import { noteReadRoute } from './read-routing-plugin.js';
import { SAFE_REQUEST_ID } from './request-id.js';
import { APPLICATION_JSON, responseTypeFor } from './response-type.js';
import { API_SECURITY_HEADERS, API_VARY, HSTS, servedOverTls } from './security-headers.js';

/**
 * POST /graphql with a JSON body, on node:http: the hot path of the API.
 *
 * Express serves everything else (GET queries, preflights, the explorer, health, metrics, odd
 * content types) through the same middleware as before; this handler takes only what it
 * fully understands and applies the same rules: request id, the API's security headers
 * (security-headers.ts), CORS for a listed origin (the same policy as the `cors` package's),
 * the operation timeout, the body limit and JSON errors, the persisted-query shape check,
 * then Apollo. Each answer's headers go out in one `writeHead` with its body.
 *
 * Cache hits before Apollo: when a request body is one seen before as a cacheable query
 * (`OperationFacts.cacheable`, worked out by Apollo's pipeline: parse, validation, cost,
 * cache policy, coerced-variable key), the next request with those very bytes is looked up
 * in the response cache directly, in the caller's scope, and a hit is written as the stored
 * bytes: no parse, no validation, no plugins. Everything a hit through Apollo enforces still
 * holds: the token is verified (and revocation checked), the cost budget is spent, the
 * CSRF rule is met by the JSON content type, CORS and security headers are written, and the
 * access-log line and metrics are produced. Anything else (a miss, Redis not answering, a
 * spent budget, a bad token) goes through Apollo, which answers it as before.
 *
 * Constant answers before Apollo: a body Apollo answered as a query whose answer depends on
 * its document alone (`{ __typename }`, constant-operation.ts) is answered the same way again,
 * with the same per-request rules as a hit (token, budget, response type, headers, log line):
 * what Apollo's pipeline would redo (parse, validation with every limit, the introspection
 * policy, the cost estimate) depends on the same bytes only and gave the same outcome.
 */
export interface GraphQLHandlerDeps {
  readonly config: Config;
  readonly log: Logger;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly metrics: Metrics;
  readonly responseCache: ResponseCache;
  readonly costBudget?: CostBudget;
  readonly viewerOf: (authorization: string | undefined) => Promise<Viewer>;
  readonly contextFor: (req: HttpRequestInfo) => Promise<GraphQLContext>;
  /** Express's compiled `trust proxy` function: the same client address as Express sees. */
  readonly trustProxy: (addr: string, hop: number) => boolean;
  /** The operation timeout and abort signal of every request (shared with the Express path). */
  readonly deadlines: OperationDeadlines;
}

export interface GraphQLHandler {
  /**
   * Operations answered as constants (`{ __typename }`) without Apollo, and known queries
   * executed without Apollo's pipeline, since start.
   */
  readonly stats: { readonly constantAnswers: number; readonly knownQueries: number };
  /** Whether this request is the handler's to serve (else Express serves it). */
  accepts(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** `application/json`, optionally with charset utf-8: what express.json() parsed as JSON. */
const JSON_CONTENT_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Request bodies remembered as cacheable queries: at most this many, each at most this long. */
const HIT_ROUTES = 2_000;
const MAX_REMEMBERED_BODY = 16 * 1024;

const SECURITY_HEAD = API_SECURITY_HEADERS.flat();

/** A remembered request body: what answering it again without Apollo needs. */
type Route = HitRoute | ConstantRoute | QueryRoute;

/** A cacheable query: answered from the response cache, in the caller's scope. */
interface HitRoute extends CacheableOperation {
  readonly kind: 'hit';
  readonly cost: number;
}

/**
 * A query whose answer depends on its document alone (`{ __typename }`, constant-operation.ts):
 * its answer is the one Apollo gave, with the cost report of each request.
 */
interface ConstantRoute {
  readonly kind: 'constant';
  readonly cost: number;
  readonly operationName: string | null;
  /** The entry, `{"data":...}`, and the body without extensions (the entry and a newline). */
  readonly entry: Buffer;
  readonly body: Buffer;
  /** The response cache's outcome header Apollo sent with it (BYPASS), if any. */
  readonly cacheOutcome: string | undefined;
}

/**
 * A query Apollo answered with data and no error while the response cache is off: executed
 * again without Apollo's pipeline (parse, validation with every limit and the cost estimate
 * depend on the bytes alone and gave the same outcome), with every per-request rule (token and
 * revocation, response type, cost budget and its report, read routing, headers, log line,
 * metrics). An answer with errors is handed to Apollo with its result, for Apollo to format.
 */
interface QueryRoute {
  readonly kind: 'query';
  readonly cost: number;
  readonly query: KnownQuery;
  /** The operation's own name, for the log and the metrics (as Apollo names it). */
  readonly operationName: string | null;
  /** Apollo's headers after the content type (x-cache, cache-control, vary), in its order. */
  readonly headers: readonly [string, string][];
}

/** The response headers of Apollo's answer to a constant query, all that it may carry. */
const CONSTANT_ANSWER_HEADERS: Record<string, (value: string) => boolean> = {
  'content-type': () => true, // negotiated per request
  'x-cache': (v) => v === 'BYPASS',
  'cache-control': (v) => v === 'no-store',
  vary: (v) => v === API_VARY,
};

interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly info: HttpRequestInfo;
  /**
   * The response's headers as name, value pairs (Node's flat form for `writeHead`): those of
   * every answer (request id, security, CORS) first, the answer's own added by `finish`.
   */
  readonly head: string[];
  readonly started: bigint;
  /** Set once an answer has been written, or the request given up; later writes are dropped. */
  answered: boolean;
  readonly deadline: Deadline;
}

export function createGraphQLHandler(deps: GraphQLHandlerDeps): GraphQLHandler {
  const { config, log, apollo, metrics, responseCache, costBudget } = deps;
  const exposedHeaders = (corsOptions(config).exposedHeaders as string[]).join(',');
  const limit = config.http.bodyLimitBytes;
  const routesReads = config.db.kind === 'postgres' && config.db.replicas !== undefined;
  const routes = new LRUCache<string, Route>({ max: HIT_ROUTES });
  const stats = { constantAnswers: 0, knownQueries: 0 };
  // Known queries need the response cache off: its outcome (BYPASS) and headers then depend on
  // the document alone, never on the viewer or on a pending invalidation.
  const knowsQueries = !config.cache.enabled;
  const finish = (ex: Exchange, status: number, headers: Iterable<[string, string]>, body: string | Buffer) => {
    if (ex.answered) return;
    ex.answered = true;
    ex.deadline.done();
    write(ex, status, headers, body);
  };

  const write = (ex: Exchange, status: number, headers: Iterable<[string, string]>, body: string | Buffer) => {
    const { req, res, head } = ex;
    let vary = false;
    let cacheControl = false;
    for (const [name, value] of headers) {
      head.push(name, value);
      if (name === 'vary') vary = true;
      else if (name === 'cache-control') cacheControl = true;
    }
    if (!vary) head.push('vary', API_VARY);
    if (!cacheControl) head.push('cache-control', 'no-store');
    // A 304 has no body, and no length (it would be read as the length of the representation).
    if (status !== 304)
      head.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    // HTTP/1.1 connections persist unless either side says `close` (RFC 9112 §9.3): Node's
    // `Connection: keep-alive` and `Keep-Alive: timeout` lines say nothing a 1.1 client needs.
    // Node still closes when the client asked it to, and says so when it decides to itself.
    if (res.shouldKeepAlive && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) res.removeHeader('connection');
    // Every header in one call (no per-header map), and the body with it: one write.
    res.writeHead(status, head);
    res.end(body);
    metrics.httpDuration.observe(
      { method: 'POST', path: '/graphql', status: String(status) },
      Number(process.hrtime.bigint() - ex.started) / 1e9,
    );
  };

  const fail = (ex: Exchange, status: number, message: string, code: string) =>
    finish(
      ex,
      status,
      [['content-type', APPLICATION_JSON]],
      JSON.stringify({ errors: [{ message, extensions: { code } }] }),
    );

  /**
   * A remembered body answered without Apollo (from the cache, or its constant answer), or
   * false: the caller then runs Apollo, which answers whatever this declines (406, 401, 429, a miss).
   */
  const answerKnown = async (ex: Exchange, route: Route): Promise<boolean | GraphQLContext> => {
    const type = responseTypeFor(ex.req.headers.accept);
    if (type === null) return false;
    if (route.kind === 'query') return answerQuery(ex, route, type);
    let viewer: Viewer;
    try {
      viewer = await deps.viewerOf(ex.info.authorization);
    } catch {
      return false; // Apollo answers the 401
    }
    let stored: StoredHit | null = null;
    if (route.kind === 'hit' && (stored = await responseCache.storedFor(viewer, route)) === null) return false;
    let report: CostReport | undefined;
    if (costBudget) {
      try {
        report = await costBudget.spend(budgetKey(viewer, ex.info.ip), route.cost);
      } catch {
        return false; // Apollo answers the 429 with its Retry-After
      }
    }
    let status = 200;
    let cache: string | undefined;
    if (route.kind === 'hit') {
      const hit = stored!;
      responseCache.countEarlyHit();
      cache = 'HIT';
      const headers: [string, string][] = [
        ['content-type', type],
        ['x-cache', 'HIT'],
        ['cache-control', cacheControlHeader(route, viewer)],
        ['vary', API_VARY],
        ['etag', hit.etag],
      ];
      // The caller holds these very bytes (same scope, same data): nothing to send again.
      if (ifNoneMatch(ex.req.headers['if-none-match'], hit.etag)) finish(ex, (status = 304), headers.slice(1), '');
      else finish(ex, 200, headers, report ? hitBody(hit.entry, { cost: report }) : hit.body);
    } else {
      stats.constantAnswers++;
      cache = route.cacheOutcome;
      if (cache === 'BYPASS') responseCache.countBypass();
      const headers: [string, string][] = [['content-type', type]];
      if (cache !== undefined) headers.push(['x-cache', cache]);
      finish(ex, 200, headers, report ? hitBody(route.entry, { cost: report }) : route.body);
    }
    const seconds = Number(process.hrtime.bigint() - ex.started) / 1e9;
    metrics.operationDuration.observe(
      { operation: metrics.operationLabel(route.operationName), type: 'query' },
      seconds,
    );
    if (log.isLevelEnabled('info')) {
      log.info(
        {
          requestId: ex.info.requestId,
          userId: viewer.userId ?? undefined,
          operationName: route.operationName ?? undefined,
          operationType: 'query',
          durationMs: Math.round(seconds * 10_000) / 10,
          status,
          cost: report?.requested,
          dbQueries: queriesInScope(),
          cache,
        },
        'graphql request',
      );
    }
    return true;
  };

  /**
   * A known query executed without Apollo: true once answered; false when Apollo must answer
   * (a bad token, a spent budget); or the request's context when the answer has errors (or the
   * query changed something), its result noted for Apollo to format as its own.
   */
  const answerQuery = async (ex: Exchange, route: QueryRoute, type: string): Promise<boolean | GraphQLContext> => {
    let ctx: GraphQLContext;
    try {
      ctx = await deps.contextFor(ex.info);
    } catch {
      return false; // Apollo answers the 401
    }
    noteReadRoute(route.query.operation, ctx);
    let report: CostReport | undefined;
    if (costBudget) {
      try {
        report = await costBudget.spend(budgetKey(ctx.viewer, ex.info.ip), route.cost);
      } catch {
        return false; // Apollo answers the 429 with its Retry-After
      }
    }
    let result: ExecutionResult;
    try {
      result = await route.query.run(route.query, ctx);
    } catch (error) {
      // Execution itself failed: Apollo answers it as it answers its own executor's failure.
      if (ctx.operationFacts) ctx.operationFacts.executed = { failed: error, report };
      return ctx;
    }
    if (result.errors?.length || ctx.changes?.size || !ctx.operationFacts) {
      if (ctx.operationFacts) ctx.operationFacts.executed = { result, report };
      return ctx;
    }
    stats.knownQueries++;
    responseCache.countBypass();
    ctx.cacheOutcome = 'BYPASS';
    // As Apollo writes it: its fields in its order, the cost report added to the extensions.
    const extensions = report ? { ...result.extensions, cost: report } : result.extensions;
    const body = stringifyResult({ errors: undefined, data: result.data, extensions });
    finish(ex, 200, [['content-type', type], ...route.headers], body);
    recordOperation(
      ctx,
      {
        operationName: route.operationName,
        type: 'query',
        status: 200,
        codes: [],
        cost: report?.requested,
        seconds: Number(process.hrtime.bigint() - ex.started) / 1e9,
      },
      metrics,
      log,
    );
    return true;
  };

  const runApollo = async (
    ex: Exchange,
    text: string,
    body: object,
    hasExtensions: boolean,
    given?: GraphQLContext,
  ) => {
    const headers = new HeaderMap();
    const raw = ex.req.headers;
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let ctx: GraphQLContext | undefined = given;
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: 'POST', headers, search: searchOf(ex.req.url), body },
      context: given ? async () => given : async () => (ctx = await deps.contextFor(ex.info)),
    });
    const status = response.status ?? 200;
    const etag = response.headers.get('etag');
    if (status === 200 && etag !== undefined && ifNoneMatch(ex.req.headers['if-none-match'], etag)) {
      response.headers.delete('content-type');
      finish(ex, 304, response.headers, '');
    } else if (response.body.kind === 'complete') {
      finish(ex, status, response.headers, response.body.string);
    } else {
      // Incremental delivery (multipart): streamed as Apollo produces it.
      if (ex.answered) return;
      ex.answered = true;
      ex.deadline.done();
      ex.res.statusCode = status;
      for (let i = 0; i < ex.head.length; i += 2) ex.res.setHeader(ex.head[i]!, ex.head[i + 1]!);
      for (const [name, value] of response.headers) ex.res.setHeader(name, value);
      for await (const chunk of response.body.asyncIterator) ex.res.write(chunk);
      ex.res.end();
    }
    const facts = ctx?.operationFacts;
    if (status !== 200 || facts?.cost === undefined || text.length > MAX_REMEMBERED_BODY) return;
    // A cacheable query that reached the cache (a hit, or a miss): the next request
    // with these very bytes may be answered before Apollo.
    const outcome = response.headers.get('x-cache');
    if (facts.cacheable && (outcome === 'HIT' || outcome === 'MISS')) {
      routes.set(text, { kind: 'hit', ...facts.cacheable, cost: facts.cost });
    } else if (facts.constant && !hasExtensions && response.body.kind === 'complete') {
      // Remembered only when Apollo answered exactly the constant entry, with no header that
      // a later request could need otherwise. (Persisted-query bodies are left to Apollo:
      // what they answer depends on its store.)
      const route = constantRoute(facts.constant, facts.cost, response.headers, response.body.string);
      if (route) routes.set(text, route);
    } else if (knowsQueries && facts.query && !hasExtensions && response.body.kind === 'complete') {
      const route = queryRoute(facts.query, facts.cost, response.headers, response.body.string);
      if (route) routes.set(text, route);
    }
  };

  const serve = async (ex: Exchange, text: string) => {
    const route = text.length <= MAX_REMEMBERED_BODY ? routes.get(text) : undefined;
    const known = route ? await answerKnown(ex, route) : false;
    if (known === true) return;
    if (ex.answered && known === false) return;
    let body: object;
    try {
      // express.json(): an empty body is `{}`; anything but an object or array is refused.
      const parsed: unknown = text === '' ? {} : JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object') throw new SyntaxError('not an object');
      body = parsed;
    } catch {
      return fail(ex, 400, 'Request body is not valid JSON', 'BAD_REQUEST');
    }
    const hasExtensions = Object.hasOwn(body, 'extensions');
    const problem = problemOfPersistedQuery(hasExtensions ? (body as { extensions: unknown }).extensions : undefined);
    if (problem) return fail(ex, 400, problem, 'BAD_REQUEST');
    await runApollo(ex, text, body, hasExtensions, known === false ? undefined : known);
  };

  return {
    stats,

    accepts(req) {
      return (
        req.method === 'POST' &&
        isGraphQLPath(req.url) &&
        JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '') &&
        // A chunked or unknown-length body is Express's (body-parser's streaming limits).
        req.headers['content-length'] !== undefined
      );
    },

    handle(req, res) {
      const incoming = req.headers['x-request-id'];
      const requestId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
      // Given up (operation timeout, database circuit open): the operation's answer is dropped.
      const deadline = deps.deadlines.start(
        (status, headers, body) => !res.headersSent && write(ex, status, headers, body),
        () => void (ex.answered = true),
      );
      const info: HttpRequestInfo = {
        authorization: req.headers.authorization,
        requestId,
        ip: proxyAddr(req, deps.trustProxy),
        userAgent: req.headers['user-agent'] ?? null,
        guard: deadline.guard,
      };
      const head = ['x-request-id', requestId, ...SECURITY_HEAD];
      if (servedOverTls(req, deps.trustProxy)) head.push(HSTS[0], HSTS[1]);
      // CORS concerns browsers, which name their origin; a listed one may read the answer.
      const origin = req.headers.origin;
      if (origin !== undefined && isOriginAllowed(config, origin))
        head.push('access-control-allow-origin', origin, 'access-control-expose-headers', exposedHeaders);
      const ex: Exchange = { req, res, info, head, started: process.hrtime.bigint(), answered: false, deadline };

      const length = Number(req.headers['content-length']);
      if (!(length <= limit)) {
        req.resume(); // read and drop the body; the connection stays usable
        return fail(ex, 413, `Request body larger than ${limit} bytes`, 'BAD_REQUEST');
      }
      const chunks: Buffer[] = [];
      // Node's parser delivers exactly Content-Length bytes (checked against the limit above).
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('error', () => {
        ex.deadline.done();
        ex.answered = true; // the client went away mid-body: nobody to answer
      });
      req.on('end', () => {
        const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        const run = () =>
          serve(ex, text).catch((err: unknown) => {
            log.error({ err, requestId }, 'unhandled HTTP error');
            fail(ex, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
          });
        // Per-request SQL counts ride on AsyncLocalStorage (opt-in, see express-app.ts).
        routingReads(routesReads, () => {
          if (config.logQueryCounts) withQueryScope(run);
          else void run();
        });
      });
    },
  };
}

/**
 * A constant query's route, if Apollo's answer was its entry (with at most the cost report)
 * and headers that hold for every caller; else null.
 */
function constantRoute(
  constant: { readonly entry: string; readonly operationName: string | null },
  cost: number,
  headers: Iterable<[string, string]>,
  answer: string,
): ConstantRoute | null {
  let cacheOutcome: string | undefined;
  for (const [name, value] of headers) {
    if (!CONSTANT_ANSWER_HEADERS[name]?.(value)) return null;
    if (name === 'x-cache') cacheOutcome = value;
  }
  const entry = constant.entry;
  if (answer !== `${entry}\n`) {
    // With a cost budget, Apollo adds the request's report: `extensions.cost` and nothing else.
    const parsed = JSON.parse(answer) as Record<string, unknown>;
    const extensions = parsed.extensions as Record<string, unknown> | undefined;
    if (
      JSON.stringify({ data: parsed.data }) !== entry ||
      Object.keys(parsed).join() !== 'data,extensions' ||
      Object.keys(extensions ?? {}).join() !== 'cost'
    )
      return null;
  }
  const body = Buffer.from(`${entry}\n`);
  return {
    kind: 'constant',
    cost,
    operationName: constant.operationName,
    entry: body.subarray(0, -1),
    body,
    cacheOutcome,
  };
}

/** The response headers Apollo's answer to a known query may carry, besides its content type. */
const QUERY_ANSWER_HEADERS: Record<string, (value: string) => boolean> = {
  'x-cache': (v) => v === 'BYPASS',
  // With the response cache off every query answer is `no-store` (cacheControlHeader: nothing is
  // shareable); anything else would be a header for one caller replayed to another.
  'cache-control': (v) => v === 'no-store',
  vary: (v) => v === API_VARY,
};

/**
 * A known query's route, if Apollo's answer was data without errors (the body starts with the
 * data: Apollo writes `errors` first) and headers that hold for every caller; else null.
 */
function queryRoute(
  query: KnownQuery,
  cost: number,
  headers: Iterable<[string, string]>,
  answer: string,
): QueryRoute | null {
  if (!answer.startsWith('{"data":{')) return null;
  const kept: [string, string][] = [];
  for (const [name, value] of headers) {
    if (name === 'content-type') continue; // negotiated per request
    if (!QUERY_ANSWER_HEADERS[name]?.(value)) return null;
    kept.push([name, value]);
  }
  if (!kept.some(([name]) => name === 'x-cache')) return null;
  return { kind: 'query', cost, query, operationName: query.operation.name?.value ?? null, headers: kept };
}

function isGraphQLPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith('/graphql') && (url.length === 8 || url.charCodeAt(8) === 63); /* ? */
}

function searchOf(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at < 0 ? '' : url!.slice(at);
}
