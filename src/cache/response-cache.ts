import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import { print, type DocumentNode, type FormattedExecutionResult, type GraphQLSchema } from 'graphql';
import type { Viewer } from '../auth/viewer.js';
import type { CacheableOperation, GraphQLContext } from '../context.js';
import type { OperationVariables } from '../graphql/coerced-variables.js';
import { DocumentMemo, operationKey } from '../graphql/document-memo.js';
import { API_VARY } from '../http/security-headers.js';
import type { Logger } from '../logging/logger.js';
import { CachePolicyCalculator, type CachePolicy } from './cache-control.js';
import type { ResponseStore } from './response-store.js';
import { markFillsCache } from '../db/replicas/read-route.js';
import { withReplyTimeout, withTimeout } from '../util/with-timeout.js';

type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

export interface CacheStats {
  hits: number;
  /** Of the hits, those answered before Apollo (http/graphql-handler.ts). */
  earlyHits: number;
  misses: number;
  bypasses: number;
  invalidations: number;
  errors: number;
}

export interface ResponseCacheOptions {
  readonly enabled: boolean;
  /** How long Redis may stay silent (answering no cache read) before a read gives up (see `read`). */
  readonly timeoutMs: number;
  readonly log: Logger;
  /**
   * Tells every instance that these tags could not be invalidated (over the event bus, which
   * lives on the other, non-evicting Redis): they all bypass the cache until one succeeds.
   */
  readonly broadcastFailure?: (tags: string[]) => void;
}

/** In-process copies of records (see `storedFor`): at most this many bytes, each at most MAX_HELD_BYTES. */
const HELD_BYTES = 32 * 1024 * 1024;
const MAX_HELD_BYTES = 1024 * 1024;

/** The longest a cache read waits while Redis keeps answering other reads. */
const READ_WAIT_CAP_MS = 250;

/** How long a mutation may spend invalidating before it answers anyway (and broadcasts). */
const INVALIDATION_BUDGET_MS = 300;

/**
 * The whole-response cache and its invalidation, as one Apollo plugin.
 *
 * Read (before execution, after validation and the cost check): queries whose policy allows
 * caching look up `sha256(normalized document, operation, variables)` in the viewer's scope.
 * The scope comes from the verified token only: anonymous; `role:ADMIN` (admins see the same
 * catalog); or, for everyone else and for PRIVATE data, the user id and role (visibility of
 * courses and `@auth` fields differ per user). A hit answers without executing anything.
 *
 * Write (after a miss): the response, unless it has errors, with the tags of every entity it
 * contains (collected by `isTypeOf`, see cache-control.ts) and the viewer's tag for
 * user-scoped entries.
 *
 * Invalidation: services name what a mutation changed (`scope.changes`); those tags are
 * invalidated, on every instance, before the mutation's response is sent.
 *
 * Redis slow or down: reads give up once Redis has been silent for `timeoutMs` (BYPASS,
 * logged at most every 30 s; see `read`: load alone does not turn hits into bypasses),
 * writes are dropped, and failed invalidations are retried until they succeed; until then
 * this instance serves nothing from the cache.
 */
export class ResponseCache {
  readonly stats: CacheStats = { hits: 0, earlyHits: 0, misses: 0, bypasses: 0, invalidations: 0, errors: 0 };
  /** Tags still to invalidate → a sequence number, so a retry clears only what it covered. */
  private readonly pending = new Map<string, number>();
  private pendingSeq = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying = false;
  private lastWarnAt = 0;
  /** When Redis last answered a cache read (see `read`). */
  private lastReplyAt = 0;
  private readonly normalized = new WeakMap<DocumentNode, string>();
  /** Entry keys (scope aside) by document, operation name and variables as sent; null: none. */
  private readonly keys = new DocumentMemo<string | null>();
  /** Records read for early hits, by record key: served only once Redis confirms their ETag. */
  private readonly held = new LRUCache<string, StoredHit>({
    maxSize: HELD_BYTES,
    sizeCalculation: (hit) => hit.body.length,
  });
  /** ETag reads not yet sent, by record key: joined by every hit that arrives before they go (`currentEtag`). */
  private readonly etagReads = new Map<string, Promise<string | null>>();

  constructor(
    private readonly store: ResponseStore,
    private readonly options: ResponseCacheOptions,
  ) {}

  /**
   * The Apollo plugin, for this schema's cache policies. The schema comes here rather than
   * to the constructor: services invalidate through the cache, and the schema is built from
   * their resolvers, so the cache exists before the schema does.
   */
  plugin(schema: GraphQLSchema, variables: OperationVariables): ApolloServerPlugin<GraphQLContext> {
    // The hooks below are methods of Apollo's hook objects, where `this` is not the cache.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const cache = this;
    const calculator = new CachePolicyCalculator(schema);
    return {
      async requestDidStart() {
        let outcome: CacheOutcome | undefined;
        let policy: CachePolicy | undefined;
        let miss: { key: string; generation: number; userScoped: boolean } | undefined;
        let etag: string | undefined;
        return {
          async responseForOperation({
            document,
            operation,
            operationName,
            request,
            contextValue: ctx,
          }): Promise<GraphQLResponse | null> {
            // Apollo's types promise an operation, but it is undefined when none matches the
            // request (several operations and no operationName): execution answers that 400.
            if (operation?.operation !== 'query') return null;
            policy = calculator.policyOf(document, operationName);
            // The key is built from the variables as the schema coerces them (once per request,
            // shared with the cost check and execution): bounded by the schema's own types
            // whatever the client nests. Variables that do not coerce make no key; execution
            // refuses them. Remembered per document, operation name and coerced variables.
            const coerced = cache.options.enabled ? variables.of(ctx, operation, request.variables) : undefined;
            const entryKey = coerced?.ok
              ? cache.keys.get(document, operationKey(operationName, coerced.key), () =>
                  cache.keyOf(document, operationName, coerced.key),
                )
              : null;
            if (!cache.options.enabled || policy.maxAge <= 0 || cache.pending.size > 0 || entryKey === null) {
              outcome = 'BYPASS';
              cache.stats.bypasses++;
              return null;
            }
            if (ctx.operationFacts)
              ctx.operationFacts.cacheable = {
                entryKey,
                maxAge: policy.maxAge,
                scope: policy.scope,
                operationName: operation.name?.value ?? null,
              };
            const { scope, userScoped } = cacheScope(ctx.viewer, policy);
            const key = recordKey(scope, entryKey);
            let read;
            try {
              read = await cache.read(() => cache.store.get(key));
            } catch (err) {
              cache.bypassed(err);
              outcome = 'BYPASS';
              return null;
            }
            if (read.value !== null && isRecordText(read.value)) {
              outcome = 'HIT';
              cache.stats.hits++;
              etag = read.value.slice(0, ETAG_LENGTH);
              // The stored bytes go out as they are (see `stringifyResult`): no JSON.parse of
              // the entry, no re-serialisation of the same data by Apollo.
              const data = new StoredData(read.value.slice(ETAG_LENGTH)) as unknown as Record<string, unknown>;
              return {
                http: { status: 200, headers: new HeaderMap() },
                body: { kind: 'single', singleResult: { data } },
              };
            }
            outcome = 'MISS';
            cache.stats.misses++;
            // Filled from the primary: an entry computed on a replica that has not yet replayed
            // a write whose invalidation came first would outlive that invalidation.
            markFillsCache();
            miss = { key, generation: read.generation, userScoped };
            ctx.cacheTags = new Set();
            return null;
          },

          async willSendResponse({ response, contextValue: ctx, operation }) {
            if (ctx.changes?.size) await cache.invalidate([...ctx.changes], ctx.log);
            if (operation?.operation !== 'query' || !outcome) return;
            const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
            const ok = body && body.data && !body.errors?.length;
            response.http.headers.set('x-cache', outcome);
            const shareable = ok && cache.pending.size === 0 && cache.options.enabled;
            response.http.headers.set('cache-control', cacheControlHeader(policy!, shareable ? ctx.viewer : undefined));
            response.http.headers.set('vary', API_VARY);
            ctx.cacheOutcome = outcome;
            if (outcome === 'HIT' && shareable && etag) response.http.headers.set('etag', etag);
            if (!miss || !ok) return;
            const record = recordOf(miss.key, JSON.stringify({ data: body.data }));
            if (shareable) response.http.headers.set('etag', record.slice(0, ETAG_LENGTH));
            const tags = [...(ctx.cacheTags ?? [])];
            if (miss.userScoped && ctx.viewer.userId) tags.push(`Viewer:${ctx.viewer.userId}`);
            // Not awaited: storing must not delay the response (the generation rule keeps it safe).
            // Only `data`: extensions (the cost report) belong to each request.
            cache.store
              .set(miss.key, record, policy!.maxAge, tags, miss.generation)
              .catch((err: unknown) => cache.bypassed(err));
          },
        };
      },
    };
  }

  /**
   * Invalidates now, trying again within a small budget. If it still fails, every instance is
   * told to bypass the cache until the tags are invalidated (this one keeps retrying), so no
   * instance serves the old response meanwhile.
   */
  async invalidate(tags: readonly string[], log: Logger = this.options.log): Promise<void> {
    if (!tags.length) return;
    this.stats.invalidations += tags.length;
    const deadline = Date.now() + INVALIDATION_BUDGET_MS;
    let lastError: unknown;
    do {
      try {
        await withTimeout(this.store.invalidate(tags), Math.max(10, deadline - Date.now()));
        return;
      } catch (err) {
        lastError = err;
      }
    } while (Date.now() < deadline);
    this.stats.errors++;
    log.warn(
      { err: lastError, tags },
      'cache invalidation failed; every instance bypasses the cache until it succeeds',
    );
    this.adoptPending(tags);
    this.options.broadcastFailure?.([...tags]);
  }

  /** Bypass the cache until these tags are invalidated (retried here every second). */
  adoptPending(tags: readonly string[]): void {
    for (const t of tags) this.pending.set(t, ++this.pendingSeq);
    if (!this.retryTimer) {
      this.retryTimer = setInterval(() => void this.retryPending(), 1_000);
      this.retryTimer.unref();
    }
  }

  /**
   * The stored response for a query worked out before (`OperationFacts.cacheable`), for this
   * viewer, or null: a miss, a Redis that does not answer, or pending invalidations. Counts
   * nothing: whoever then runs the operation counts its outcome. Used by the HTTP
   * handler to answer a hit before Apollo parses anything (http/graphql-handler.ts).
   *
   * Records read once are kept in the process (`held`), but a held copy is only ever served
   * after Redis has answered with the same ETag for the record as it is now: the ETag hashes
   * the record's key and entry, so equal ETags mean the bytes Redis holds are the held ones.
   * Each hit still asks Redis (invalidation, expiry, eviction and another instance's
   * overwrite all show at once, as they would for a full read), but reads 24 bytes of the
   * record rather than all of it, once for all the hits on that record in one turn of the
   * event loop (`currentEtag`).
   */
  async storedFor(viewer: Viewer, op: CacheableOperation): Promise<StoredHit | null> {
    if (!this.options.enabled || op.maxAge <= 0 || this.pending.size > 0) return null;
    const key = recordKey(cacheScope(viewer, op).scope, op.entryKey);
    let hit: StoredHit | null | undefined = this.held.get(key);
    try {
      if (hit !== undefined) {
        const etag = await this.currentEtag(key);
        if (etag !== hit.etag) {
          this.held.delete(key);
          hit = undefined;
          if (etag === null) return null; // gone: expired, evicted or invalidated
        }
      }
      if (hit === undefined) {
        // As bytes: a hit's entry goes to the socket as it is, never decoded into a string and
        // encoded again (12 KiB each way on the catalog query; most of a hit's garbage).
        const record = await this.read(() => this.store.getBytes(key));
        hit = record === null ? null : storedHit(record);
        if (hit !== null && hit.body.length <= MAX_HELD_BYTES) this.held.set(key, hit);
      }
    } catch {
      return null;
    }
    return this.pending.size > 0 ? null : hit;
  }

  /**
   * The ETag Redis holds for a record, read once for every hit on it that arrives within one
   * turn of the event loop: the read is sent at the turn's end (`setImmediate`, after the poll
   * phase has read every ready socket), after all of them arrived, so each sees every
   * invalidation completed before it arrived, as a read of its own would. A hit arriving once
   * the read is sent waits for the next one, never for an answer to a read sent before it.
   */
  private currentEtag(key: string): Promise<string | null> {
    let etag = this.etagReads.get(key);
    if (etag === undefined) {
      etag = new Promise((resolve, reject) => {
        setImmediate(() => {
          this.etagReads.delete(key);
          this.read(() => this.store.getPrefix(key, ETAG_LENGTH)).then(resolve, reject);
        });
      });
      this.etagReads.set(key, etag);
    }
    return etag;
  }

  /** Counts a hit answered with `storedFor` (once it was sent: a spent budget sends Apollo's 429). */
  countEarlyHit(): void {
    this.stats.hits++;
    this.stats.earlyHits++;
  }

  /** Counts a query the cache had nothing to do with, answered before Apollo (as its plugin would have). */
  countBypass(): void {
    this.stats.bypasses++;
  }

  /** True while some invalidation is still pending: nothing is served from the cache. */
  get bypassing(): boolean {
    return this.pending.size > 0;
  }

  close(): void {
    clearInterval(this.retryTimer);
  }

  /** One retry at a time, bounded; clears only the tags whose entry it covered. */
  private async retryPending(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    const snapshot = [...this.pending];
    try {
      await withTimeout(this.store.invalidate(snapshot.map(([t]) => t)), 2_000);
      for (const [tag, seq] of snapshot) if (this.pending.get(tag) === seq) this.pending.delete(tag);
      if (!this.pending.size) {
        clearInterval(this.retryTimer);
        this.retryTimer = undefined;
        this.options.log.info({ tags: snapshot.length }, 'pending cache invalidations done; cache back in use');
      }
    } catch {
      // still failing; the next tick retries
    } finally {
      this.retrying = false;
    }
  }

  /**
   * A read bounded by Redis' own silence: it gives up once Redis has answered nothing (no
   * read at all) for `timeoutMs`, so a frozen or unreachable Redis still fails fast, while
   * under load, with replies streaming in, a read waits its turn in the connection's queue
   * (up to READ_WAIT_CAP_MS) instead of turning into a bypass. A reply that has arrived
   * always wins over the timer (`withReplyTimeout`).
   */
  private read<T>(fetch: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const timeoutMs = this.options.timeoutMs;
    const reply = fetch().then((r) => {
      this.lastReplyAt = Date.now();
      return r;
    });
    const redisAnswering = () => {
      const now = Date.now();
      return now - this.lastReplyAt < timeoutMs && now - started < Math.max(timeoutMs, READ_WAIT_CAP_MS);
    };
    return withReplyTimeout(reply, timeoutMs, 'the cache read', redisAnswering);
  }

  private keyOf(document: DocumentNode, operationName: string | null | undefined, variablesKey: string): string {
    let text = this.normalized.get(document);
    if (text === undefined) this.normalized.set(document, (text = print(document)));
    return createHash('sha256')
      .update(text)
      .update('\0')
      .update(operationName ?? '')
      .update('\0')
      .update(variablesKey)
      .digest('base64url');
  }

  private bypassed(err: unknown): void {
    this.stats.bypasses++;
    this.stats.errors++;
    if (Date.now() - this.lastWarnAt > 30_000) {
      this.lastWarnAt = Date.now();
      this.options.log.warn({ err }, 'response cache unavailable; serving uncached');
    }
  }
}

const DATA_PREFIX = '{"data":';

/**
 * A cache hit's `data`: the stored entry (`{"data":...}`, as `JSON.stringify` wrote it),
 * kept as text. `stringifyResult` splices it into the response; anything else that
 * serialises it (or a hook that reads it through `toJSON`) gets the parsed value.
 */
export class StoredData {
  constructor(readonly entry: string) {}

  /** The text of `data` alone, or undefined when the entry is not in the stored shape. */
  get dataJson(): string | undefined {
    return this.entry.startsWith(DATA_PREFIX) && this.entry.endsWith('}')
      ? this.entry.slice(DATA_PREFIX.length, -1)
      : undefined;
  }

  toJSON(): unknown {
    return (JSON.parse(this.entry) as { data: unknown }).data;
  }
}

/**
 * Apollo's `stringifyResult`: the same bytes as its default (`JSON.stringify(result) + '\n'`,
 * fields in the order errors, data, extensions), with a cache hit's stored data copied in as
 * text instead of parsed and serialised again.
 */
export function stringifyResult(result: FormattedExecutionResult): string {
  const data: unknown = result.data;
  const stored = data instanceof StoredData && !result.errors ? data.dataJson : undefined;
  if (stored === undefined) return JSON.stringify(result) + '\n';
  const extensions = result.extensions === undefined ? '' : `,"extensions":${JSON.stringify(result.extensions)}`;
  return `{"data":${stored}${extensions}}\n`;
}

const DATA_PREFIX_BYTES = Buffer.from(DATA_PREFIX);

/**
 * A stored record: the entry's ETag (a quoted 22-character hash) followed by the entry. The
 * hash covers the entry's key, whose scope names the caller's audience (anonymous, a role, a
 * user), so a validator from one scope never matches in another, even for identical data; and
 * the data, so it changes whenever what a hit would send changes. Computed once when stored,
 * never per hit. Record keys carry a format version (`r2:`): instances of an older release,
 * which store the bare entry, neither read nor overwrite these.
 */
const ETAG_LENGTH = 24;
const QUOTE = 0x22;
const NEWLINE = 0x0a;

function recordKey(scope: string, entryKey: string): string {
  return `r2:${scope}:${entryKey}`;
}

function recordOf(key: string, entry: string): string {
  const hash = createHash('sha256').update(key).update('\0').update(entry).digest('base64url');
  return `"${hash.slice(0, ETAG_LENGTH - 2)}"${entry}`;
}

function isRecordText(record: string): boolean {
  return record.charCodeAt(0) === QUOTE && record.charCodeAt(ETAG_LENGTH - 1) === QUOTE;
}

/** A stored record ready to answer an early hit. */
export interface StoredHit {
  /** The record's ETag (quoted), bound to its scope and data. */
  readonly etag: string;
  /** The stored entry, `{"data":...}` (`isStoredEntry`). */
  readonly entry: Buffer;
  /** The response body without extensions: `hitBody(entry)`, made once per record read. */
  readonly body: Buffer;
}

/** A record read as bytes: its ETag, entry and response body, or null if malformed. */
export function storedHit(record: Buffer): StoredHit | null {
  if (record.length <= ETAG_LENGTH || record[0] !== QUOTE || record[ETAG_LENGTH - 1] !== QUOTE) return null;
  if (!isStoredEntry(record.subarray(ETAG_LENGTH))) return null;
  // The body is the entry and a newline (what `hitBody` makes without extensions), in one
  // buffer of its own; the entry is a view of it, so the record read from Redis is not kept.
  const body = Buffer.allocUnsafeSlow(record.length - ETAG_LENGTH + 1);
  record.copy(body, 0, ETAG_LENGTH);
  body[body.length - 1] = NEWLINE;
  return { etag: record.toString('latin1', 0, ETAG_LENGTH), entry: body.subarray(0, -1), body };
}

/**
 * Whether an `If-None-Match` header names this ETag (RFC 9110 §13.1.2: weak comparison, a
 * list, or `*`).
 */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header === etag) return true;
  for (const part of header.split(',')) {
    const tag = part.trim();
    if (tag === '*' || tag === etag || tag === `W/${etag}`) return true;
  }
  return false;
}
const CLOSING_BRACE = 0x7d;

/** Whether stored bytes are in the shape `hitBody` splices (`{"data":...}`). */
export function isStoredEntry(entry: Buffer): boolean {
  return (
    entry.length > DATA_PREFIX_BYTES.length &&
    entry[entry.length - 1] === CLOSING_BRACE &&
    DATA_PREFIX_BYTES.compare(entry, 0, DATA_PREFIX_BYTES.length, 0, DATA_PREFIX_BYTES.length) === 0
  );
}

/**
 * The response to a cache hit answered before Apollo, from a stored entry's bytes
 * (`isStoredEntry`): exactly what `stringifyResult` writes for
 * `{ data: new StoredData(entry), extensions }` (the entry, the extensions spliced in before its
 * closing brace, a newline), without decoding the entry.
 */
export function hitBody(entry: Buffer, extensions?: Record<string, unknown>): Buffer {
  const tail = extensions === undefined ? '}\n' : `,"extensions":${JSON.stringify(extensions)}}\n`;
  return Buffer.concat([entry.subarray(0, -1), Buffer.from(tail)]);
}

function cacheScope(viewer: Viewer, policy: Pick<CachePolicy, 'scope'>): { scope: string; userScoped: boolean } {
  const { userId, role } = viewer;
  if (userId === null) return { scope: 'anon', userScoped: false };
  if (policy.scope === 'PUBLIC' && role === 'ADMIN') return { scope: 'role:ADMIN', userScoped: false };
  return { scope: `user:${userId}:${role}`, userScoped: true };
}

/** Public max-age only when every field allows it and nobody signed in (a CDN may keep it). */
export function cacheControlHeader(policy: Pick<CachePolicy, 'maxAge' | 'scope'>, viewer: Viewer | undefined): string {
  // Anything one caller may see and another may not is stored by no browser or proxy: only by
  // the server's own cache, in the caller's scope.
  if (viewer && policy.maxAge > 0 && policy.scope === 'PUBLIC' && viewer.userId === null)
    return `public, max-age=${policy.maxAge}`;
  return 'no-store';
}
