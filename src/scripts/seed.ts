import { seedDemoData } from '../seed/demo-data.js';
import { runWithDatabase } from './run-with-database.js';

/** `npm run db:seed`: migrates, then loads whatever part of the demo catalog is missing. */
await runWithDatabase(async (database, log) => {
  const added = await seedDemoData(database.db);
  log.info({ added }, 'demo data seeded (rows already present were left as they were)');
});
