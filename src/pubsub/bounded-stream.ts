/**
 * An async iterator fed by callbacks, with a hard bound on what it holds: a consumer that
 * stops pulling (a slow WebSocket client: graphql-ws awaits each send) cannot make the server
 * buffer without limit. Past `maxQueued` the stream calls `onOverflow` and ends.
 */
export class BoundedStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private readonly waiting: Array<(r: IteratorResult<T>) => void> = [];
  private done = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(
    private readonly maxQueued: number,
    private readonly onOverflow: () => void,
  ) {}

  /** Registers something to undo when the stream ends (unsubscribe, timers). */
  onEnd(cleanup: () => void): void {
    if (this.done) cleanup();
    else this.cleanups.push(cleanup);
  }

  push(value: T): void {
    if (this.done) return;
    const waiter = this.waiting.shift();
    if (waiter) return waiter({ value, done: false });
    if (this.queue.length >= this.maxQueued) {
      this.end();
      this.onOverflow();
      return;
    }
    this.queue.push(value);
  }

  get size(): number {
    return this.queue.length;
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
    for (const c of this.cleanups.splice(0)) c();
  }

  next(): Promise<IteratorResult<T>> {
    const value = this.queue.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * An iterator over `stream` that passes each item through `accept` (authorization at
 * delivery, say) and skips the ones it maps to null. Hand-written rather than an async
 * generator: a generator's `return()` waits for its next `yield`, so an idle subscription
 * would keep its topics until some event arrived; here `return()` unsubscribes at once.
 */
export function acceptedItems<T, U>(
  stream: Pick<BoundedStream<T>, 'next' | 'end'>,
  accept: (item: T) => Promise<U | null>,
): AsyncIterableIterator<U> {
  const iterator: AsyncIterableIterator<U> = {
    async next(): Promise<IteratorResult<U>> {
      for (;;) {
        const item = await stream.next();
        if (item.done) return { value: undefined, done: true };
        const value = await accept(item.value);
        if (value !== null) return { value, done: false };
      }
    },
    return: async () => {
      stream.end();
      return { value: undefined, done: true };
    },
    throw: async (err?: unknown) => {
      stream.end();
      throw err;
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
