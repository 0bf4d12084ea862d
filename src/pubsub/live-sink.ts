import type { Viewer } from '../auth/viewer.js';
import type { Loaders } from '../loaders.js';

/** What one audience's execution of an event runs with: the viewer as authorized now, fresh loaders. */
export interface LiveScope {
  readonly viewer: Viewer;
  readonly loaders: Loaders;
}

/**
 * A subscription the WebSocket layer serves directly (ws/fanout.ts): a live service that
 * authorizes an event for all of its subscribers at once hands each authorized one to its
 * sink instead of queueing the event per subscriber. The sink executes the event once per
 * audience, serializes it once, and writes the same bytes to every socket of that audience.
 */
export interface LiveSink {
  /**
   * Delivers `event` to this subscription as a member of `audience` (the viewer facts it was
   * authorized with: role and relation to the event's course). `scope` is called only for the
   * first member of an audience. Resolves once the event is written (or given up on); the
   * caller awaits every delivery of one event before the next, which keeps events in order.
   */
  deliver(event: object, audience: string, scope: () => LiveScope): Promise<void> | undefined;
  /**
   * Claims the sink: the returned iterable is what the subscribe resolver returns; it yields
   * nothing itself (events arrive through `deliver`) and `onEnd` runs once when the
   * subscription ends (completed by the client, socket closed, or an error).
   */
  open(onEnd: () => void): AsyncIterable<never>;
  /** Whether a live service claimed it (`open`). */
  readonly opened: boolean;
}
