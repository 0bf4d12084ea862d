import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase, type Database } from '../db/client.js';
import { createConfiguredLogger, type Logger } from '../logging/logger.js';
import { startupFailureLine } from '../startup/startup-error.js';
import { preflight } from '../startup/preflight.js';

/** For one-shot scripts: config, database (migrated), the task, then a clean exit. */
export async function runWithDatabase(task: (database: Database, log: Logger) => Promise<void>): Promise<void> {
  try {
    const config = loadConfig();
    const log = createConfiguredLogger(config);
    await preflight(config, { port: false });
    const database = createDatabase(config, log);
    try {
      await database.migrate();
      await task(database, log);
    } finally {
      await database.close();
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : (startupFailureLine(err) ?? err));
    process.exit(1);
  }
}
