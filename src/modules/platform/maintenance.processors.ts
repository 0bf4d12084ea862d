import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import type { Processors } from '../../queue/jobs.js';
import { purgeSessions } from '../accounts/index.js';
import { deleteOldReadNotifications } from '../notifications/notification.repository.js';
import { computePlatformStats, deleteRelayedOutbox, saveActivityReport } from './platform.repository.js';

const KEEP_RELAYED_OUTBOX_DAYS = 7;

/** The repeatable jobs. Both are idempotent, so an overlap or a retry does no harm. */
export function maintenanceProcessors(
  db: Db,
  log: Logger,
  options: { readRetentionDays: number },
): Pick<Processors, 'maintenance.cleanup' | 'maintenance.activity-report'> {
  return {
    'maintenance.cleanup': async () => {
      const [sessions, readNotifications, outboxRows] = [
        await purgeSessions(db),
        await deleteOldReadNotifications(db, options.readRetentionDays),
        await deleteRelayedOutbox(db, KEEP_RELAYED_OUTBOX_DAYS),
      ];
      log.info({ deleted: { sessions, readNotifications, outboxRows } }, 'cleanup done');
    },
    'maintenance.activity-report': async () => {
      const stats = await computePlatformStats(db);
      await saveActivityReport(db, stats.generatedAt.slice(0, 10), stats);
      log.info({ report: stats }, 'daily activity report');
    },
  };
}
