/**
 * The one after-commit mechanism. Commands call `emit` once their transaction has committed
 * (never inside it), so a listener never hears of a change that was rolled back; the
 * composition root (wiring/modules.ts) subscribes the listeners: live subscriptions, the
 * bus, revocations, the response cache. Modules declare the events they emit as a map of
 * name → payload and depend only on `Emits<TheirEvents>`.
 *
 * `emit` runs the listeners in the order they were added and awaits each: a listener that
 * must finish before the mutation answers (revocations) returns its promise; one that must
 * not delay it (a best-effort publish) starts its work and returns at once. A listener's
 * error reaches the command that emitted, as a failed call would.
 */
export interface Emits<Events> {
  emit<K extends keyof Events>(name: K, event: Events[K]): Promise<void>;
}

type Listener<T> = (event: T) => void | Promise<void>;

export class AfterCommit<Events> implements Emits<Events> {
  private readonly listeners = new Map<keyof Events, Array<Listener<never>>>();

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(name) ?? [];
    list.push(listener as Listener<never>);
    this.listeners.set(name, list);
    return this;
  }

  async emit<K extends keyof Events>(name: K, event: Events[K]): Promise<void> {
    for (const listener of this.listeners.get(name) ?? []) await (listener as Listener<Events[K]>)(event);
  }
}
