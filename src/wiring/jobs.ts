import { startBackgroundWork, type BackgroundWork } from '../background.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/client.js';
import type { HealthCheck } from '../http/express-app.js';
import type { Logger } from '../logging/logger.js';
import type { Metrics, MetricSources } from '../observability/metrics.js';
import type { EventBus } from '../pubsub/event-bus.js';
import { createJobQueue, type JobQueue } from '../queue/index.js';

export type Background = { readonly jobs: JobQueue; readonly work: BackgroundWork } | undefined;

/**
 * The outbox relay and job processors, unless this deployment runs them in `npm run worker`.
 * Expired sessions, old notifications and outbox rows are cleaned up by a repeatable job.
 * Adds the queue to the readiness checks and the metrics it reports.
 */
export async function startJobs(deps: {
  readonly config: Config;
  readonly log: Logger;
  readonly database: Database;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly sources: MetricSources;
  readonly readiness: HealthCheck[];
}): Promise<{ readonly background: Background; readonly closeReader: () => Promise<void> }> {
  const { config, log, database, bus, metrics, sources, readiness } = deps;
  if (config.notifications.workerInProcess) {
    const jobs = createJobQueue(config, log.child({ module: 'queue' }));
    const work = await startBackgroundWork({ config, log, database, jobs, bus, metrics }).catch(
      async (err: unknown) => {
        await jobs.close().catch(() => {});
        throw err;
      },
    );
    readiness.push({ name: 'queue', check: async () => void (await jobs.counts()) });
    sources.queueCounts = () => jobs.counts();
    return { background: { jobs, work }, closeReader: async () => {} };
  }
  if (config.redis) {
    // Workers run elsewhere; this process still reports the queues' depth in /metrics.
    const queueReader = createJobQueue(config, log.child({ module: 'queue' }));
    sources.queueCounts = () => queueReader.counts();
    return { background: undefined, closeReader: () => queueReader.close() };
  }
  return { background: undefined, closeReader: async () => {} };
}
