/**
 * Runs `expire(item)` when each item's deadline passes, with one timer for all of them instead
 * of one per item (thousands of sockets, each closed when its access token expires). Deadlines
 * are grouped by the millisecond they fall on (access tokens expire on whole seconds, so
 * sockets whose tokens were issued within the same second share a group); the one timer is set
 * for the earliest group. An item expires no earlier than its deadline, as with a timer of
 * its own.
 */
export class ExpiryTimers<T> {
  /** Deadline (ms) → items due then. */
  private readonly due = new Map<number, Set<T>>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(private readonly expire: (item: T) => void) {}

  add(item: T, deadline: Date): void {
    const at = deadline.getTime();
    let items = this.due.get(at);
    if (!items) this.due.set(at, (items = new Set()));
    items.add(item);
    if (at < this.timerAt) this.arm(at);
  }

  /** Forgets `item` (its deadline is the one it was added with); no-op when absent. */
  remove(item: T, deadline: Date | null | undefined): void {
    if (!deadline) return;
    const at = deadline.getTime();
    const items = this.due.get(at);
    if (!items?.delete(item) || items.size > 0) return;
    this.due.delete(at);
    // The timer may now fire for nothing: it then re-arms for the next group.
  }

  get size(): number {
    let n = 0;
    for (const items of this.due.values()) n += items.size;
    return n;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.due.clear();
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    // setTimeout's longest delay is 2^31-1 ms: a later deadline re-arms when that fires.
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    const expired: T[] = [];
    for (const [at, items] of this.due) {
      if (at <= now) {
        this.due.delete(at);
        for (const item of items) expired.push(item);
      } else if (at < next) next = at;
    }
    if (next < Infinity) this.arm(next);
    for (const item of expired) this.expire(item);
  }
}
