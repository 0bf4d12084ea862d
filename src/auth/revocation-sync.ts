import type { Logger } from '../logging/logger.js';
import type { EventBus } from '../pubsub/event-bus.js';
import { Topics } from '../pubsub/topics.js';
import type { Role } from './role.js';
import type { RevocationEvent, Revocations } from './revocations.js';

interface RecentRevocations {
  sessions: Array<{ id: string; revokedAt: Date }>;
  roleChanges: Array<{ userId: string; role: Role; previousRole: Role | null; at: Date }>;
}

export interface RevocationSyncDeps {
  readonly bus: EventBus;
  /** Reads the revocations of the last access-token lifetime from Postgres. */
  readonly readRecent: () => Promise<RecentRevocations>;
  readonly refreshMs: number;
  readonly log: Logger;
}

/**
 * Keeps this instance's revocation markers current:
 *  - the instance that revokes applies the markers itself before the mutation answers, then
 *    publishes them (Redis pub/sub): other instances have them within milliseconds;
 *  - every `refreshMs` (1 s by default) each instance re-reads the revocations of the last
 *    token lifetime from Postgres, by index: a message lost while Redis was unreachable (or
 *    published by an instance that died before sending it) arrives at the next refresh, so
 *    revocation reaches every instance within `refreshMs` + one query even without Redis;
 *  - a new instance reads them before it serves its first request.
 * While Postgres cannot be read the markers stay as they are (pub/sub still adds to them) and
 * a warning is logged every 30 s; requests that need Postgres fail anyway then.
 */
export class RevocationSync {
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private refreshing: Promise<void> | undefined;
  private lastWarnAt = 0;
  /** When the markers were last read from Postgres (ms), for /metrics and the logs. */
  lastRefreshAt = 0;

  constructor(
    private readonly revocations: Revocations,
    private readonly deps: RevocationSyncDeps,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.deps.bus.subscribe(Topics.revocations, (payload) =>
      this.revocations.apply(asEvent(payload)),
    );
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.deps.refreshMs);
    this.timer.unref();
  }

  /** Applies here at once, then tells every other instance (a lost message: see refresh). */
  async revoke(event: RevocationEvent): Promise<void> {
    this.revocations.apply(event);
    await this.deps.bus
      .publish(Topics.revocations, event)
      .catch((err: unknown) =>
        this.deps.log.warn({ err }, 'revocation not published; other instances see it at their next refresh'),
      );
  }

  /** One read at a time; a caller arriving meanwhile shares it. */
  refresh(): Promise<void> {
    return (this.refreshing ??= this.readOnce().finally(() => (this.refreshing = undefined)));
  }

  private async readOnce(): Promise<void> {
    try {
      const recent = await this.deps.readRecent();
      const now = Date.now();
      for (const s of recent.sessions) this.revocations.revokeSession(s.id, s.revokedAt.getTime(), now);
      for (const r of recent.roleChanges)
        this.revocations.roleChanged(r.userId, r.role, r.previousRole, r.at.getTime(), now);
      this.revocations.prune(now);
      this.lastRefreshAt = now;
    } catch (err) {
      if (Date.now() - this.lastWarnAt > 30_000) {
        this.lastWarnAt = Date.now();
        this.deps.log.warn(
          { err, lastRefreshAt: this.lastRefreshAt ? new Date(this.lastRefreshAt).toISOString() : null },
          'revocations could not be read from Postgres; keeping the ones known',
        );
      }
    }
  }

  /** Stops refreshing; resolves once a read in flight is done (before the pool closes). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.refreshing;
  }
}

/** Pub/sub payloads come from other instances; anything malformed is ignored field by field. */
function asEvent(payload: unknown): RevocationEvent {
  const p = (payload ?? {}) as {
    sessionIds?: unknown;
    roleChange?: { userId?: unknown; role?: unknown; previousRole?: unknown; at?: unknown };
  };
  const sessionIds = Array.isArray(p.sessionIds)
    ? p.sessionIds.filter((id): id is string => typeof id === 'string')
    : [];
  const rc = p.roleChange;
  const roleChange =
    rc && typeof rc.userId === 'string' && typeof rc.role === 'string' && typeof rc.at === 'number'
      ? {
          userId: rc.userId,
          role: rc.role as Role,
          previousRole: typeof rc.previousRole === 'string' ? (rc.previousRole as Role) : null,
          at: rc.at,
        }
      : undefined;
  return { sessionIds, ...(roleChange ? { roleChange } : {}) };
}
