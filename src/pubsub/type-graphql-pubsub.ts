import type { PubSub } from '../graphql/type-graphql.js';
import { BoundedStream } from './bounded-stream.js';
import type { EventBus } from './event-bus.js';

/**
 * type-graphql 2 expects a yoga-style PubSub (`publish(key, payload)`, `subscribe(key, id)`
 * returning an AsyncIterable). This bridges it to the EventBus, so `@Subscription({ topics })`
 * resolvers ride on the same Redis fan-out, with the same bounded buffering.
 */
export function typeGraphQLPubSub(bus: EventBus, maxQueued = 256): PubSub {
  const topicOf = (key: string, id?: unknown) => (id === undefined ? key : `${key}.${String(id)}`);
  return {
    publish(routingKey: string, ...args: unknown[]) {
      const [idOrPayload, maybePayload] = args;
      const payload = args.length > 1 ? maybePayload : idOrPayload;
      const topic = args.length > 1 ? topicOf(routingKey, idOrPayload) : routingKey;
      void bus.publish(topic, payload as object);
    },
    subscribe(routingKey: string, dynamicId?: unknown) {
      const stream = new BoundedStream<unknown>(maxQueued, () => {});
      bus
        .subscribe(topicOf(routingKey, dynamicId), (p) => stream.push(p))
        .then(
          (stop) => stream.onEnd(stop),
          () => stream.end(),
        );
      return stream;
    },
  };
}
