import { ConfigError, loadConfig } from '../config/config.js';
import { createDatabase } from '../db/client.js';
import { createLogger } from '../logging/logger.js';
import { seedDemoData } from '../seed/demo-data.js';

/** `npm run db:seed`: migrates, then loads whatever part of the demo catalog is missing. */
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const database = createDatabase(config, log);
  try {
    await database.migrate();
    const added = await seedDemoData(database.db);
    log.info({ added }, 'demo data seeded (rows already present were left as they were)');
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
}
