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
 * most one per 20 ms window. An ack waits at most a window more than its statement, and a
 * statement costs both processes far more than one more id in it (10,000 sockets connecting
 * in about 4 s: some 400 statements; 5 ms windows, 700-1,000). Statements scale with how long
 * the flood lasts, not with the sockets: on a loaded machine 10 ms windows sent 685 session
 * statements for 10,000 sockets, about 11% of the API's CPU while connecting in postgres.js
 * (docs/performance.md); a connecting socket mostly waits behind the others' work, so the
 * wider window costs an ack a few milliseconds, not the flood its rate.
 */
export const CONNECT_BATCHING = { windowMs: 20, maxInFlight: 1 } as const;

/**
 * For checks no reply waits on (a subscription's course standing: graphql-ws acknowledges no
 * `subscribe`): wider windows, fewer statements (each costs both processes far more than one
 * more id in it, and wakes a backend). 50 ms rather than 20: a subscription goes live at most
 * 30 ms later, and 10,000 connecting sockets send some 150 fewer statements.
 */
export const SUBSCRIBE_BATCHING = { windowMs: 50, maxInFlight: 1 } as const;
