import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import { print, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { GraphQLContext } from '../context.js';
import type { Logger } from '../logging/logger.js';
import { CachePolicyCalculator, type CachePolicy } from './cache-control.js';
import type { ResponseStore } from './response-store.js';

export type CacheOutcome = 'HIT' | 'MISS' | 'BYPASS';

export interface CacheStats {
  hits: number;
  misses: number;
  bypasses: number;
  invalidations: number;
  errors: number;
}

export interface ResponseCacheOptions {
  readonly enabled: boolean;
  /** Longest a cache read may take before the request runs uncached. */
  readonly timeoutMs: number;
  readonly log: Logger;
}

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
 * Redis slow or down: reads give up after `timeoutMs` (BYPASS, logged at most every 30 s),
 * writes are dropped, and failed invalidations are retried until they succeed; until then
 * this instance serves nothing from the cache.
 */
export class ResponseCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, bypasses: 0, invalidations: 0, errors: 0 };
  private readonly pending = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private lastWarnAt = 0;
  private readonly calculator: CachePolicyCalculator;
  private readonly normalized = new WeakMap<DocumentNode, string>();

  constructor(
    schema: GraphQLSchema,
    private readonly store: ResponseStore,
    private readonly options: ResponseCacheOptions,
  ) {
    this.calculator = new CachePolicyCalculator(schema);
  }

  plugin(): ApolloServerPlugin<GraphQLContext> {
    const cache = this;
    return {
      async requestDidStart() {
        let outcome: CacheOutcome | undefined;
        let policy: CachePolicy | undefined;
        let miss: { key: string; generation: number; userScoped: boolean } | undefined;
        return {
          async responseForOperation({ document, operation, operationName, request, contextValue: ctx }): Promise<GraphQLResponse | null> {
            if (operation.operation !== 'query') return null;
            policy = cache.calculator.policyOf(document, operationName);
            if (!cache.options.enabled || policy.maxAge <= 0 || cache.pending.size > 0) {
              outcome = 'BYPASS';
              cache.stats.bypasses++;
              return null;
            }
            const { scope, userScoped } = cacheScope(ctx, policy);
            const key = `${scope}:${cache.keyOf(document, operationName, request.variables)}`;
            let read;
            try {
              read = await withTimeout(cache.store.get(key), cache.options.timeoutMs);
            } catch (err) {
              cache.bypassed(err);
              outcome = 'BYPASS';
              return null;
            }
            if (read.value !== null) {
              outcome = 'HIT';
              cache.stats.hits++;
              return { http: { status: 200, headers: new HeaderMap() }, body: { kind: 'single', singleResult: JSON.parse(read.value) } };
            }
            outcome = 'MISS';
            cache.stats.misses++;
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
            response.http.headers.set('cache-control', cacheControlHeader(policy!, ok ? ctx : undefined));
            ctx.cacheOutcome = outcome;
            if (!miss || !ok) return;
            const tags = [...(ctx.cacheTags ?? [])];
            if (miss.userScoped && ctx.viewer.userId) tags.push(`Viewer:${ctx.viewer.userId}`);
            // Not awaited: storing must not delay the response (the generation rule keeps it safe).
            cache.store.set(miss.key, JSON.stringify(body), policy!.maxAge, tags, miss.generation).catch((err: unknown) => cache.bypassed(err));
          },
        };
      },
    };
  }

  /** Invalidates now; on failure, keeps retrying in the background and bypasses meanwhile. */
  async invalidate(tags: readonly string[], log: Logger = this.options.log): Promise<void> {
    if (!tags.length) return;
    this.stats.invalidations += tags.length;
    try {
      await withTimeout(this.store.invalidate(tags), Math.max(this.options.timeoutMs * 50, 1_000));
    } catch (err) {
      this.stats.errors++;
      log.warn({ err, tags }, 'cache invalidation failed; bypassing the cache until it succeeds');
      for (const t of tags) this.pending.add(t);
      this.retryTimer ??= setInterval(() => void this.retryPending(), 1_000);
      this.retryTimer.unref();
    }
  }

  close(): void {
    clearInterval(this.retryTimer);
  }

  private async retryPending(): Promise<void> {
    const tags = [...this.pending];
    try {
      await this.store.invalidate(tags);
      for (const t of tags) this.pending.delete(t);
      if (!this.pending.size) {
        clearInterval(this.retryTimer);
        this.retryTimer = undefined;
        this.options.log.info({ tags: tags.length }, 'pending cache invalidations done; cache back in use');
      }
    } catch {
      // still down; the next tick retries
    }
  }

  private keyOf(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | undefined): string {
    let text = this.normalized.get(document);
    if (text === undefined) this.normalized.set(document, (text = print(document)));
    return createHash('sha256').update(text).update('\0').update(operationName ?? '').update('\0').update(stableJson(variables ?? {})).digest('base64url');
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

function cacheScope(ctx: GraphQLContext, policy: CachePolicy): { scope: string; userScoped: boolean } {
  const { userId, role } = ctx.viewer;
  if (userId === null) return { scope: 'anon', userScoped: false };
  if (policy.scope === 'PUBLIC' && role === 'ADMIN') return { scope: 'role:ADMIN', userScoped: false };
  return { scope: `user:${userId}:${role}`, userScoped: true };
}

/** Public max-age only when every field allows it and nobody signed in (a CDN may keep it). */
function cacheControlHeader(policy: CachePolicy, ctx: GraphQLContext | undefined): string {
  if (!ctx || policy.maxAge <= 0) return 'no-store';
  if (policy.scope === 'PUBLIC' && ctx.viewer.userId === null) return `public, max-age=${policy.maxAge}`;
  return `private, max-age=${policy.maxAge}`;
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` share a cache entry. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => {});
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cache did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
