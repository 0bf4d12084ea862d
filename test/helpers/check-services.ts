import { requireServices } from './require-services.js';

/**
 * `npm test`'s first step, before lint and the type-check: are Postgres and Redis there? One
 * message and exit 1 when they are not, within seconds, before anything else prints.
 */
try {
  await requireServices();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
