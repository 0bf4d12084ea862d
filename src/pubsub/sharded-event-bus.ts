import type { Cluster } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { EventBus } from './event-bus.js';

/**
 * The event bus on sharded pub/sub (REDIS_SHARDED_PUBSUB=true on a Redis Cluster): SPUBLISH
 * reaches only the shard that owns the channel's slot, where ioredis' sharded subscribers
 * (one connection per master, `shardedSubscribers`) have SSUBSCRIBEd. Classic PUBLISH on a
 * cluster is copied to every node, so its cost grows with the cluster; this one does not.
 * ioredis moves the subscriptions itself when slots move (failover, resharding). One Redis
 * subscription per channel per process, shared by every local subscriber of the topic.
 */
export class ShardedEventBus implements EventBus {
  private readonly handlers = new Map<string, Set<(payload: unknown) => void>>();
  /** SSUBSCRIBE in flight per channel: a second local subscriber waits for the same one. */
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(
    private readonly publisher: Cluster,
    private readonly subscriber: Cluster,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    subscriber.on('smessage', (channel: string, message: string) => {
      const handlers = this.handlers.get(channel);
      if (!handlers) return;
      let payload: unknown;
      try {
        payload = JSON.parse(message);
      } catch (err) {
        log.warn({ err, channel }, 'unreadable pub/sub message dropped');
        return;
      }
      for (const handler of [...handlers]) handler(payload);
    });
  }

  async publish(topic: string, payload: object): Promise<void> {
    await this.publisher.spublish(this.prefix + topic, JSON.stringify(payload));
  }

  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void> {
    const channel = this.prefix + topic;
    let handlers = this.handlers.get(channel);
    if (!handlers) this.handlers.set(channel, (handlers = new Set()));
    handlers.add(onMessage);
    let pending = this.subscribing.get(channel);
    if (!pending && handlers.size === 1) {
      pending = this.subscriber.ssubscribe(channel).finally(() => this.subscribing.delete(channel));
      this.subscribing.set(channel, pending);
    }
    try {
      await pending;
    } catch (err) {
      this.drop(channel, onMessage);
      throw err;
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.drop(channel, onMessage);
    };
  }

  /**
   * SSUBSCRIBE again (a no-op for Redis where the subscription lives): after a SIGKILL of a
   * master, ioredis' subscriber group was seen to leave some channels unsubscribed on the
   * promoted replica, with no error and no dropped connection (bench:scale, issue 27). Called
   * when the live layer finds a logged event that never arrived.
   */
  resubscribe(topic: string): void {
    const channel = this.prefix + topic;
    if (!this.handlers.has(channel)) return;
    this.subscriber
      .ssubscribe(channel)
      .catch((err: unknown) => this.log.warn({ err, channel }, 'redis ssubscribe again failed'));
  }

  private drop(channel: string, onMessage: (payload: unknown) => void): void {
    const handlers = this.handlers.get(channel);
    if (!handlers?.delete(onMessage) || handlers.size > 0) return;
    this.handlers.delete(channel);
    this.subscriber
      .sunsubscribe(channel)
      .catch((err: unknown) => this.log.warn({ err, channel }, 'redis sunsubscribe failed'));
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}
