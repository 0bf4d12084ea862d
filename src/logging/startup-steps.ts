import type { Logger } from './logger.js';

/**
 * Progress lines for start-up: a first start (embedded database created, migrated and seeded)
 * takes seconds, and a silent terminal looks like a hang. Each call logs the next step with
 * the time the previous one took.
 */
export function startupSteps(log: Logger) {
  let last = Date.now();
  return (next: string) => {
    const now = Date.now();
    log.info({ previousStepMs: now - last }, `starting: ${next}…`);
    last = now;
  };
}
