/**
 * Batches lookups that arrive one per I/O event (sockets connecting by the thousand, each in
 * its own tick, where a DataLoader's one-tick batch would mostly hold one key): a batch goes
 * out `windowMs` after its first key (at once when full), while fewer than `maxInFlight`
 * batches are in flight; otherwise its keys wait for one of them to settle, and then go out at
 * once (they have waited a window already) unless the last batch went out less than a window
 * ago: at most one batch per window. A batch in flight for longer than `staleMs` (a hung
 * database) stops counting, so it cannot hold up the keys behind it. No cache: every lookup is
 * fresh.
 */
export function batchWhileBusy<K, V>(
  load: (keys: readonly K[]) => Promise<readonly V[]>,
  options: { maxBatchSize?: number; maxInFlight?: number; staleMs?: number; windowMs?: number } = {},
): (key: K) => Promise<V> {
  const { maxBatchSize = 1_000, maxInFlight = 2, staleMs = 1_000, windowMs = 0 } = options;
  let queue: Array<{ key: K; resolve: (v: V) => void; reject: (err: unknown) => void }> = [];
  let inFlight = 0;
  let scheduled = false;

  let lastFlushAt = -Infinity;
  /**
   * `waited`: the queued keys have waited for a batch in flight already; they go out as soon
   * as it settles, but no sooner than a window after the previous batch (at most one batch
   * per window, however fast the statements come back).
   */
  const schedule = (waited = false) => {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    const delay = queue.length >= maxBatchSize ? 0 : waited ? lastFlushAt + windowMs - performance.now() : windowMs;
    if (delay > 0) setTimeout(flush, delay);
    else setImmediate(flush);
  };

  const flush = () => {
    scheduled = false;
    lastFlushAt = performance.now();
    const batch = queue.slice(0, maxBatchSize);
    queue = queue.slice(batch.length);
    inFlight++;
    let counted = true;
    const settle = () => {
      if (!counted) return;
      counted = false;
      inFlight--;
      schedule(true);
    };
    const stale = setTimeout(settle, staleMs);
    stale.unref();
    load(batch.map((b) => b.key))
      .then(
        (values) => batch.forEach((b, i) => b.resolve(values[i]!)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      )
      .finally(() => {
        clearTimeout(stale);
        settle();
      });
    schedule();
  };

  return (key) =>
    new Promise<V>((resolve, reject) => {
      queue.push({ key, resolve, reject });
      schedule();
    });
}

/**
 * For checks a socket's `connection_ack` waits for (its session): one statement in flight, at
 * most one per 5 ms window. The window is on every socket's path to its acknowledgement, and
 * clients connect a bounded number at a time (a browser tab one socket, a load test or a
 * reconnect storm some hundreds, each waiting for its ack before it subscribes): a flood goes
 * as fast as those sockets' round trips allow, so a wider window slows it in proportion. 20 ms
 * windows (round 3's first try, chosen on a loaded machine for fewer statements) made 10,000
 * sockets take 4.3-4.8 s against 3.2-3.5 s with 0 ms windows and 3.2-3.4 s with 5 ms
 * (`npm run bench:subscriptions -- 10000`, alternating builds, docs/decisions/batch-windows.md);
 * 5 ms sends half the statements of 0 ms (about 500 against 1,100), each of which costs the API
 * a write that wakes a Postgres backend.
 */
export const CONNECT_BATCHING = { windowMs: 5, maxInFlight: 1 } as const;

/**
 * For checks no reply waits on (a subscription's course standing: graphql-ws acknowledges no
 * `subscribe`): wider windows, fewer statements (each costs both processes far more than one
 * more id in it, and wakes a backend). 50 ms rather than 20: a subscription goes live at most
 * 30 ms later, and 10,000 connecting sockets send some 150 fewer statements.
 */
export const SUBSCRIBE_BATCHING = { windowMs: 50, maxInFlight: 1 } as const;
