import { RevocationSync } from '../auth/revocation-sync.js';
import { Revocations } from '../auth/revocations.js';
import { MAX_CLOCK_SKEW_SECONDS } from '../auth/tokens.js';
import type { Config } from '../config/config.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logging/logger.js';
import { recentRevocations } from '../modules/accounts/index.js';
import type { EventBus } from '../pubsub/event-bus.js';

/**
 * Revoked sessions and role changes, in memory on every instance (see auth/revocation-sync.ts):
 * what the HTTP context checks each access token against. Started (loaded once from Postgres).
 */
export async function startRevocations(deps: { config: Config; db: Db; bus: EventBus; log: Logger }) {
  const { config, db, bus, log } = deps;
  const tokenWindowSeconds = config.auth.accessTokenTtlSeconds + MAX_CLOCK_SKEW_SECONDS;
  const revocations = new Revocations(tokenWindowSeconds * 1000);
  const sync = new RevocationSync(revocations, {
    bus,
    readRecent: () => recentRevocations(db, tokenWindowSeconds),
    refreshMs: config.auth.revocationRefreshMs,
    log: log.child({ module: 'revocations' }),
  });
  await sync.start();
  return { revocations, sync };
}
