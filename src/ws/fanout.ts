import { execute, GraphQLError, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { WebSocket } from 'ws';
import type { GraphQLContext } from '../context.js';
import type { LiveScope, LiveSink } from '../pubsub/live-sink.js';
import { audienceKeys } from './audience.js';

/** One audience's execution of one event: its result, and the text every socket of it shares. */
interface Shared {
  /** Settles once the result is known and written to every member waiting for it. */
  readonly done: Promise<void>;
  result?: ExecutionResult;
  /** `,"type":"next","payload":<result>}`: the frame after the subscription id (null: has errors). */
  tail?: string | null;
  /** Members that arrived before the result: written to in one loop once it is there. */
  waiting?: SocketSink[];
}

export interface FanoutOptions {
  /** Past this much unsent data on one socket, the client is too slow and is disconnected. */
  readonly maxBufferedBytes: number;
  /** Results waiting for graphql-ws (errors, and what queues behind them) before the client counts as too slow. */
  readonly maxQueued: number;
  /** Called with how many `next` messages were written directly (batched). */
  readonly delivered?: (count: number) => void;
}

const HEAD = '{"id":';

/**
 * Serialize once per audience: the subscribers of an event who would read the same payload
 * (ws/audience.ts's key) share one execution and one `JSON.stringify` of it, and each socket
 * gets the same bytes with only its subscription id spliced in: `{"id":` + JSON id +
 * `,"type":"next","payload":…}`, exactly what graphql-ws' own `next` message serializes to.
 *
 * A live service that authorizes in bulk (LessonLive) delivers through the sink each
 * subscription's context carries (`GraphQLContext.sink`); the sink's iterable is what graphql-ws
 * consumes through the documented `subscribe` option, and it yields only results that must
 * take graphql-ws' own path: ones with errors (formatted by onNext), and whatever queues behind
 * them, so a socket receives its events in order.
 */
export class Fanout {
  private readonly keys;
  /** Per event object (shared by every subscriber of it on this instance): executions by audience key. */
  private readonly byEvent = new WeakMap<object, Map<string, Shared>>();
  private pendingDelivered = 0;
  /** Subscriptions authorized and listening through a sink (opened, not yet ended). */
  live = 0;

  constructor(
    schema: GraphQLSchema,
    private readonly options: FanoutOptions,
  ) {
    this.keys = audienceKeys(schema);
  }

  /** The sink of one subscription (`args.contextValue` is its context). */
  sinkFor(socket: WebSocket, id: string, args: ExecutionArgs): LiveSink {
    return new SocketSink(this, socket, JSON.stringify(id), args);
  }

  /** @internal The shared execution of `event` for one audience, started by its first member. */
  shared(event: object, sink: SocketSink, audience: string, scope: () => LiveScope): Shared {
    let results = this.byEvent.get(event);
    if (!results) this.byEvent.set(event, (results = new Map()));
    const key = `${(sink.keyBase ??= this.keys.baseOf(sink.args))}\u0000${audience}`;
    let shared = results.get(key);
    if (!shared) {
      const entry: { done: Promise<void>; result?: ExecutionResult; tail?: string | null; waiting?: SocketSink[] } = {
        done: Promise.resolve(),
        waiting: [],
      };
      const { viewer, loaders } = scope();
      // A context of its own over the first member's: nothing of one event leaks into the next.
      const contextValue: GraphQLContext = Object.create(sink.args.contextValue as GraphQLContext);
      contextValue.viewer = viewer;
      contextValue.loaders = loaders;
      contextValue.audience = audience;
      entry.done = Promise.resolve(execute({ ...sink.args, rootValue: event, contextValue }))
        .catch((err: unknown): ExecutionResult => {
          // graphql-js reports resolver errors in the result; a throw here is a bug: an error result.
          return { errors: [new GraphQLError('Unexpected error', { originalError: err as Error })] };
        })
        .then((result) => {
          entry.result = result;
          entry.tail = result.errors ? null : `,"type":"next","payload":${JSON.stringify(result)}}`;
          const waiting = entry.waiting!;
          entry.waiting = undefined;
          for (const member of waiting) member.send(entry);
        });
      results.set(key, (shared = entry));
    }
    return shared;
  }

  /** @internal */
  counted(): void {
    if (this.pendingDelivered++ === 0 && this.options.delivered) {
      queueMicrotask(() => {
        const n = this.pendingDelivered;
        this.pendingDelivered = 0;
        this.options.delivered!(n);
      });
    }
  }

  /** @internal */
  get limits(): FanoutOptions {
    return this.options;
  }
}

/** One subscription's sink: direct writes, and a small queue of what must go through graphql-ws. */
class SocketSink implements LiveSink, AsyncGenerator<never> {
  keyBase: string | undefined;
  opened = false;
  private ended = false;
  private onEnd: (() => void) | undefined;
  /** Results for graphql-ws, and whether it holds one it has not finished sending. */
  private queue: ExecutionResult[] | undefined;
  private handedOut = false;
  private waiter: ((r: IteratorResult<never>) => void) | undefined;

  constructor(
    private readonly fanout: Fanout,
    private readonly socket: WebSocket,
    private readonly idJson: string,
    readonly args: ExecutionArgs,
  ) {}

  open(onEnd: () => void): AsyncIterable<never> {
    if (!this.opened && !this.ended) this.fanout.live++;
    this.opened = true;
    this.onEnd = onEnd;
    return this;
  }

  deliver(event: object, audience: string, scope: () => LiveScope): Promise<void> | undefined {
    if (this.ended) return undefined;
    const shared = this.fanout.shared(event, this, audience, scope);
    if (shared.waiting) {
      shared.waiting.push(this);
      return shared.done;
    }
    this.send(shared);
    return undefined;
  }

  /** @internal Writes the shared result to this socket (or queues it for graphql-ws). */
  send(shared: Shared): void {
    if (this.ended) return;
    const { socket } = this;
    if (socket.readyState !== socket.OPEN) return;
    // Errors go through graphql-ws (onNext formats them), and so does anything behind them.
    if (!shared.tail || this.handedOut || this.queue?.length) return this.enqueue(shared.result!);
    if (socket.bufferedAmount > this.fanout.limits.maxBufferedBytes) {
      socket.close(1008, 'Slow consumer: send buffer full');
      return;
    }
    // A string, as the bare broadcast sends: ws encodes it straight into the frame (one write).
    socket.send(HEAD + this.idJson + shared.tail);
    this.fanout.counted();
  }

  private enqueue(result: ExecutionResult): void {
    if (this.waiter && !this.handedOut) {
      const waiter = this.waiter;
      this.waiter = undefined;
      this.handedOut = true;
      return waiter({ value: result as never, done: false });
    }
    const queue = (this.queue ??= []);
    if (queue.length >= this.fanout.limits.maxQueued) {
      this.socket.close(1008, 'Slow consumer: too many undelivered events');
      void this.return();
      return;
    }
    queue.push(result);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.opened) this.fanout.live--;
    this.queue = undefined;
    this.onEnd?.();
  }

  next(): Promise<IteratorResult<never>> {
    // graphql-ws asks for the next result once it has sent the last one.
    this.handedOut = false;
    const value = this.queue?.shift();
    if (value) {
      this.handedOut = true;
      return Promise.resolve({ value: value as never, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<never>> {
    this.end();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<never>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
