import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logging/logger.js';
import { startupSteps } from '../logging/startup-steps.js';
import { ensureAdmin } from '../modules/users/index.js';
import { isDatabaseEmpty, seedDemoData } from '../seed/demo-data.js';

/**
 * The database made ready before anything reads it: migrations (when this process runs them),
 * the ADMIN_EMAIL account, and the demo catalog on an empty database. Logs each step as it
 * starts; returns the step logger for the rest of start-up.
 */
export async function prepareDatabase(config: Config, database: Database, log: Logger) {
  const step = startupSteps(log);
  if (config.db.migrateOnStart) {
    step(
      config.db.kind === 'pglite'
        ? `opening the embedded database in ${config.dataDir} and applying migrations (the first start creates it)`
        : 'applying database migrations',
    );
    await database.migrate();
  }
  if (config.admin) await ensureAdmin(database.db, config.admin, log);
  if (config.seedDemoData && (await isDatabaseEmpty(database.db))) {
    step('loading the demo catalog');
    log.info({ added: await seedDemoData(database.db) }, 'demo data loaded');
  }
  return step;
}
