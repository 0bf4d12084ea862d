import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import type { Processors } from '../../queue/jobs.js';
import { deleteExpiredAccountTokens, purgeSessions } from '../accounts/index.js';
import { deleteOldLessonEvents } from '../lessons/lesson-event.repository.js';
import { deleteFinishedBatches } from '../notifications/notification-batch.repository.js';
import { deleteOldReadNotifications } from '../notifications/notification.repository.js';
import { deleteProcessedOutbox } from '../../outbox/outbox.js';
import { deleteExpiredIdempotencyKeys } from '../../idempotency/idempotency.repository.js';
import { computePlatformStats, saveActivityReport } from './platform.repository.js';

const KEEP_PROCESSED_OUTBOX_DAYS = 7;
/** lessonStatusChanged cursors stay valid at least 24 hours; a week of log is kept. */
const KEEP_LESSON_EVENTS_DAYS = 7;

/**
 * The repeatable jobs. Both are idempotent, so an overlap or a retry does no harm. Each part
 * of the cleanup runs on its own: one failing (and the job retrying) does not starve the rest.
 */
export function maintenanceProcessors(
  db: Db,
  log: Logger,
  options: { readRetentionDays: number; heal: () => Promise<object> },
): Pick<Processors, 'maintenance.cleanup' | 'maintenance.activity-report'> {
  return {
    'maintenance.cleanup': async () => {
      const steps: Record<string, () => Promise<unknown>> = {
        sessions: () => purgeSessions(db),
        accountTokens: () => deleteExpiredAccountTokens(db),
        readNotifications: () => deleteOldReadNotifications(db, options.readRetentionDays),
        outboxRows: () => deleteProcessedOutbox(db, KEEP_PROCESSED_OUTBOX_DAYS),
        lessonEvents: () => deleteOldLessonEvents(db, KEEP_LESSON_EVENTS_DAYS),
        notificationBatches: () => deleteFinishedBatches(db, KEEP_PROCESSED_OUTBOX_DAYS),
        idempotencyKeys: () => deleteExpiredIdempotencyKeys(db),
        healed: () => options.heal(),
      };
      const done: Record<string, unknown> = {};
      const failed: string[] = [];
      for (const [name, step] of Object.entries(steps)) {
        try {
          done[name] = await step();
        } catch (err) {
          failed.push(name);
          log.warn({ err, step: name }, 'cleanup step failed');
        }
      }
      log.info({ done, failed: failed.length ? failed : undefined }, 'cleanup done');
      if (failed.length) throw new Error(`cleanup steps failed: ${failed.join(', ')}`);
    },
    'maintenance.activity-report': async () => {
      const stats = await computePlatformStats(db);
      await saveActivityReport(db, stats.generatedAt.slice(0, 10), stats);
      log.info({ report: stats }, 'daily activity report');
    },
  };
}
