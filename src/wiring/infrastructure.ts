import { loadOrCreateEmbeddedSecret } from '../auth/embedded-secret.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { TokenService } from '../auth/tokens.js';
import { ResponseCache } from '../cache/response-cache.js';
import { CLUSTER_CACHE_GROUPS, MemoryResponseStore, RedisResponseStore } from '../cache/response-store.js';
import type { Config } from '../config/config.js';
import { CostBudget } from '../graphql/cost-budget.js';
import type { Logger } from '../logging/logger.js';
import { createEventBus } from '../pubsub/event-bus.js';
import { Topics } from '../pubsub/topics.js';
import { createRedis } from '../redis/redis.js';
import { MemoryAttemptStore } from '../throttle/attempt-store.js';
import { FallbackAttemptStore } from '../throttle/fallback-attempt-store.js';
import { RedisAttemptStore } from '../throttle/redis-attempt-store.js';

/**
 * The singletons the modules and the transports share: tokens, the two Redis connections,
 * the throttle and cost budget, the event bus and the response cache. `close()` releases them
 * in the order the bus and the cache need (the bus first: it still carries cache broadcasts).
 */
export async function startInfrastructure(config: Config, log: Logger) {
  const tokens = new TokenService({
    secret:
      config.auth.jwtSecret ?? (config.auth.jwtPrivateKey ? undefined : loadOrCreateEmbeddedSecret(config.dataDir)),
    previousSecret: config.auth.jwtPreviousSecret,
    privateKeyPem: config.auth.jwtPrivateKey,
    previousPublicKeyPem: config.auth.jwtPreviousPublicKey,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
  });

  // Throttle counters are volatile: they live on the cache Redis (CACHE_REDIS_URL, else REDIS_URL).
  const r = config.redis;
  const redis = r
    ? createRedis(r, r.cacheTarget, log, 'commands', { keyPrefix: r.keyPrefix, commandTimeoutMs: r.commandTimeoutMs })
    : undefined;
  // The response cache and APQ: a connection that fails fast, so an outage costs a request
  // at most the cache timeout.
  const cacheRedis = r
    ? createRedis(r, r.cacheTarget, log, 'cache', {
        keyPrefix: r.keyPrefix,
        failFast: true,
        commandTimeoutMs: r.commandTimeoutMs,
      })
    : undefined;
  const costBudget =
    config.graphql.costBudgetPerMinute > 0
      ? new CostBudget(config.graphql.costBudgetPerMinute, redis, log.child({ module: 'budget' }))
      : undefined;
  const attemptStore = redis
    ? new FallbackAttemptStore(
        new RedisAttemptStore(redis, r?.cacheTarget.kind === 'cluster'),
        log.child({ module: 'throttle' }),
      )
    : new MemoryAttemptStore();
  const throttle = new LoginThrottle(attemptStore, {
    freeAttempts: config.auth.loginMaxAttempts,
    registrationsPerHour: config.auth.registrationsPerHour,
  });

  const bus = createEventBus(config, log.child({ module: 'pubsub' }));
  const publish = (topic: string, payload: object) =>
    bus.publish(topic, payload).catch((err: unknown) => log.error({ err, topic }, 'publish failed'));
  const responseCache = new ResponseCache(
    cacheRedis
      ? new RedisResponseStore(
          cacheRedis,
          r?.cacheTarget.kind === 'cluster' ? CLUSTER_CACHE_GROUPS : 1,
          r?.cacheTarget.kind === 'sentinel',
        )
      : new MemoryResponseStore(config.cache.maxEntries),
    {
      enabled: config.cache.enabled,
      timeoutMs: config.cache.timeoutMs,
      log: log.child({ module: 'cache' }),
      broadcastFailure: (tags) => void publish(Topics.cacheInvalidationFailed, { tags }),
    },
  );
  const stopCacheFailures = await bus.subscribe(Topics.cacheInvalidationFailed, (payload) =>
    responseCache.adoptPending((payload as { tags: string[] }).tags),
  );

  return {
    tokens,
    attemptStore,
    redis,
    cacheRedis,
    costBudget,
    throttle,
    bus,
    publish,
    responseCache,
    /** Stops listening on the bus (before the transports close). */
    stopListening: stopCacheFailures,
    async close() {
      await bus.close();
      responseCache.close();
      cacheRedis?.disconnect();
      await attemptStore.close();
      redis?.disconnect();
    },
  };
}

export type Infrastructure = Awaited<ReturnType<typeof startInfrastructure>>;
