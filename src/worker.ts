import { createServer, type Server } from 'node:http';
import type { Config } from './config/config.js';
import { exitOnSignals, exitOnStartupFailure, loadConfigOrExit } from './process.js';
import { preflight } from './startup/preflight.js';
import { startBackgroundWork } from './background.js';
import { createDatabase } from './db/client.js';
import { routeConsoleToLogger } from './logging/console.js';
import { createConfiguredLogger } from './logging/logger.js';
import { createEventBus } from './pubsub/event-bus.js';
import { createJobQueue } from './queue/index.js';
import { Metrics, type MetricSources } from './observability/metrics.js';
import { metricsAccess } from './observability/metrics-guard.js';

/**
 * Worker process: the outbox relay and the job processors, no HTTP. Scale it independently of
 * the API. SIGTERM stops taking new jobs and lets the ones in hand finish.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createConfiguredLogger(config).child({ process: 'worker' });
  routeConsoleToLogger(log);
  if (!config.redis || config.db.kind !== 'postgres') {
    log.warn(
      'a separate worker needs DATABASE_URL and REDIS_URL; the embedded mode runs its workers inside `npm start`',
    );
    process.exit(1);
  }
  await preflight(config, { port: false });
  const sources: MetricSources = {};
  const metrics = new Metrics(sources);
  // With DATABASE_REPLICA_URLS this builds the replica router (closed with the database): the
  // jobs' reads that may use a replica are counted here as the API's are.
  const database = createDatabase(config, log.child({ module: 'db' }), { metrics });
  if (config.db.migrateOnStart) await database.migrate();
  const bus = createEventBus(config, log.child({ module: 'pubsub' }));
  const jobs = createJobQueue(config, log.child({ module: 'queue' }));
  sources.queueCounts = () => jobs.counts();
  const work = await startBackgroundWork({ config, log, database, jobs, bus, metrics });
  const metricsServer = config.workerMetricsPort ? await serveMetrics(config, metrics) : undefined;
  const address = metricsServer?.address();
  log.info({ metricsPort: typeof address === 'object' ? address?.port : undefined }, 'EduFlow worker running');

  exitOnSignals(log, 'worker', config.jobs.drainMs + 5_000, async () => {
    metricsServer?.close();
    await work.close(); // stops taking jobs; the ones in hand finish
    await bus.close();
    await database.close();
    log.info('worker stopped cleanly');
  });
}

/** /metrics (job outcomes and durations, queue depth, process) and /health for the worker. */
function serveMetrics(config: Config, metrics: Metrics): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/health')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    const access = metricsAccess(config, req.headers.authorization);
    if (access !== 200) return void res.writeHead(access).end();
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.workerMetricsPort, config.http.host, () => resolve(server));
  });
}

main().catch(exitOnStartupFailure('EduFlow worker'));
