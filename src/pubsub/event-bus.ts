import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';
import type { Cluster, Redis } from 'ioredis';
import { createRedis } from '../redis/redis.js';
import { ShardedEventBus } from './sharded-event-bus.js';
import { withTimeout } from '../util/with-timeout.js';

/**
 * Publish/subscribe between API instances: graphql-redis-subscriptions over two ioredis
 * connections when REDIS_URL is set (a mutation on any instance reaches subscribers on every
 * instance), graphql-subscriptions' in-memory PubSub otherwise. Both are PubSubEngines; this
 * small interface is all the rest of the code sees. Payloads are plain JSON.
 */
export interface EventBus {
  publish(topic: string, payload: object): Promise<void>;
  /** Resolves once the subscription is active; the returned function ends it. */
  subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void>;
  close(): Promise<void>;
  /**
   * Tells `watcher` when this instance's subscriber connection dropped (what was published
   * meanwhile did not reach it) and when it is subscribed again. The in-memory bus loses
   * nothing and never calls it. Returns the function that stops watching.
   */
  watchDelivery?(watcher: DeliveryWatcher): () => void;
  /**
   * Subscribes this instance to `topic` again, where a subscription can die without its
   * connection dropping (sharded pub/sub); a topic not subscribed is left alone.
   */
  resubscribe?(topic: string): void;
}

interface DeliveryWatcher {
  dropped(): void;
  /** Subscribed again: events published from now on arrive; the ones in between did not. */
  restored(): void;
}

export function createEventBus(config: Config, log: Logger): EventBus {
  if (!config.redis) return new EngineEventBus(new PubSub(), '', async () => {});
  const settings = config.redis;
  const { keyPrefix, commandTimeoutMs } = settings;
  if (settings.shardedPubSub && settings.target.kind === 'cluster') {
    const publisher = createRedis(settings, settings.target, log, 'pubsub-publisher', {
      failFast: true,
      commandTimeoutMs,
      // Not auto-pipelined: after a master's SIGKILL, auto-pipelined SPUBLISHes kept coming back
      // MOVED (ioredis 5.11.1 did not redirect them) until the process restarted, so nothing of
      // the failed-over slots was published again (test/scale/live-failover.test.ts, bench:scale).
      // A plain command follows MOVED to the new owner.
      autoPipelining: false,
    }) as Cluster;
    const subscriber = createRedis(settings, settings.target, log, 'pubsub-subscriber', {
      commandTimeoutMs,
      shardedSubscribers: true,
    }) as Cluster;
    return new ShardedEventBus(publisher, subscriber, keyPrefix, log);
  }
  // Every publish is bounded and fails at once while Redis is away (a live update is best
  // effort; nothing waits on it). Subscribing is bounded too; the subscriber keeps its
  // offline queue so that ioredis re-subscribes after a reconnect.
  const publisher = createRedis(settings, settings.target, log, 'pubsub-publisher', {
    failFast: true,
    commandTimeoutMs,
  });
  const subscriber = createRedis(settings, settings.target, log, 'pubsub-subscriber', { commandTimeoutMs });
  // RedisPubSub fires UNSUBSCRIBE and PUNSUBSCRIBE without handling their promises; while
  // Redis is away (or the connection is closing) the rejection would go unhandled and take
  // the process down.
  for (const command of ['unsubscribe', 'punsubscribe'] as const) {
    const original = subscriber[command].bind(subscriber) as (...channels: string[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[command] = (...channels: string[]) =>
      original(...channels).catch((err: unknown) => {
        log.warn({ err, channels, command }, 'redis unsubscribe failed');
        return 0;
      });
  }
  // After a reconnect ioredis re-subscribes on its own (autoResubscribe) with SUBSCRIBE and
  // PSUBSCRIBE calls whose promises nobody handles: a connection closed while they are pending
  // (shutting down during a Redis outage) rejected them unhandled. Marked handled here; callers
  // that await them (RedisPubSub's subscribe) still see the error.
  for (const command of ['subscribe', 'psubscribe'] as const) {
    const original = subscriber[command].bind(subscriber) as (...args: unknown[]) => Promise<unknown>;
    (subscriber as unknown as Record<string, unknown>)[command] = (...args: unknown[]) => {
      const pending = original(...args);
      pending.catch(() => {});
      return pending;
    };
  }
  const engine = new RedisPubSub({ publisher, subscriber });
  const watchers = new Set<DeliveryWatcher>();
  let down = false;
  subscriber.on('close', () => {
    if (down) return;
    down = true;
    for (const w of watchers) w.dropped();
  });
  subscriber.on('ready', () => {
    if (!down) return;
    // ioredis has written its re-SUBSCRIBEs before 'ready'; the PING's reply comes after
    // theirs, so from then on every publish reaches this instance again.
    (subscriber as Redis).ping().then(
      () => {
        down = false;
        for (const w of watchers) w.restored();
      },
      () => {}, // dropped again: the next 'ready' retries
    );
  });
  // When a SUBSCRIBE fails (Redis away), RedisPubSub rejects both the promise it returns
  // (which our caller handles) and an internal "pending" deferred that only concurrent
  // subscribers to the same channel await; with none, that second rejection is unhandled.
  const subscribe = engine.subscribe.bind(engine);
  engine.subscribe = (trigger, onMessage, options) => {
    const result = subscribe(trigger, onMessage, options);
    const internals = engine as unknown as {
      subsPendingRefsMap?: Map<string, { pending?: { catch?: (f: () => void) => unknown } }>;
    };
    internals.subsPendingRefsMap?.get(trigger)?.pending?.catch?.(() => {});
    return result;
  };
  // ioredis' keyPrefix does not apply to channels, so topics carry the prefix themselves.
  return new EngineEventBus(
    engine,
    keyPrefix,
    async () => {
      // QUIT (RedisPubSub.close) waits for a connection that is down to come back, unless
      // bounded; then both are cut, so that nothing is left reconnecting after shutdown.
      await withTimeout(engine.close(), commandTimeoutMs, 'closing pub/sub').catch(() => {});
      publisher.disconnect();
      subscriber.disconnect();
    },
    watchers,
  );
}

class EngineEventBus implements EventBus {
  constructor(
    private readonly engine: PubSubEngine,
    private readonly prefix: string,
    private readonly closeEngine: () => Promise<void>,
    private readonly watchers?: Set<DeliveryWatcher>,
  ) {}

  watchDelivery(watcher: DeliveryWatcher): () => void {
    this.watchers?.add(watcher);
    return () => void this.watchers?.delete(watcher);
  }

  publish(topic: string, payload: object): Promise<void> {
    return this.engine.publish(this.prefix + topic, payload);
  }

  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void> {
    const id = await this.engine.subscribe(this.prefix + topic, onMessage, {});
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.engine.unsubscribe(id);
    };
  }

  close(): Promise<void> {
    return this.closeEngine();
  }
}
