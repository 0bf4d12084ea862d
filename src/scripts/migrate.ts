import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../db/client.js';
import { createLogger } from '../logging/logger.js';

/** `npm run db:migrate`: applies pending migrations (embedded or DATABASE_URL) and exits. */
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const database = createDatabase(config, log);
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
