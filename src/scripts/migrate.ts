import { runWithDatabase } from './run-with-database.js';

/** `npm run db:migrate`: applies pending migrations (embedded or DATABASE_URL) and exits. */
await runWithDatabase(async () => {});
