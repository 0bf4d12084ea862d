/**
 * Batches lookups that arrive one per I/O event (sockets connecting by the thousand, each in
 * its own tick, where a DataLoader's one-tick batch would mostly hold one key): a batch goes
 * out `windowMs` after its first key (at once when full), while fewer than `maxInFlight`
 * batches are in flight; otherwise its keys wait for one of them to settle. A batch in flight
 * for longer than `staleMs` (a hung database) stops counting, so it cannot hold up the keys
 * behind it. No cache: every lookup is fresh.
 */
export function batchWhileBusy<K, V>(
  load: (keys: readonly K[]) => Promise<readonly V[]>,
  options: { maxBatchSize?: number; maxInFlight?: number; staleMs?: number; windowMs?: number } = {},
): (key: K) => Promise<V> {
  const { maxBatchSize = 1_000, maxInFlight = 2, staleMs = 1_000, windowMs = 0 } = options;
  let queue: Array<{ key: K; resolve: (v: V) => void; reject: (err: unknown) => void }> = [];
  let inFlight = 0;
  let scheduled = false;

  const schedule = () => {
    if (scheduled || inFlight >= maxInFlight || queue.length === 0) return;
    scheduled = true;
    if (windowMs > 0 && queue.length < maxBatchSize) setTimeout(flush, windowMs);
    else setImmediate(flush);
  };

  const flush = () => {
    scheduled = false;
    const batch = queue.slice(0, maxBatchSize);
    queue = queue.slice(batch.length);
    inFlight++;
    let counted = true;
    const settle = () => {
      if (!counted) return;
      counted = false;
      inFlight--;
      schedule();
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
 * For checks made while sockets connect: a 5 ms window (a connection takes far longer) gathers
 * the checks of many sockets into one statement.
 */
export const CONNECT_BATCHING = { windowMs: 5, maxInFlight: 2 } as const;
