import type { Config } from './config/config.js';
import type { Database } from './db/client.js';
import type { Logger } from './logging/logger.js';
import { createMailer } from './mail/mailer.js';
import { accountTokenProcessors } from './modules/accounts/index.js';
import { NotificationProcessors } from './modules/notifications/index.js';
import { maintenanceProcessors } from './modules/platform/index.js';
import { CertificateProcessors, certificatePdfUrl } from './modules/certificates/index.js';
import { QuizProcessors } from './modules/quizzes/index.js';
import { OutboxRelay } from './outbox/outbox.relay.js';
import type { EventBus } from './pubsub/event-bus.js';
import type { JobName, JobQueue, Processors } from './queue/index.js';
import type { Metrics } from './observability/metrics.js';

export interface BackgroundWork {
  readonly relay: OutboxRelay;
  /** Stops the relay, lets jobs in hand finish, closes the mailer (not the queue). */
  close(): Promise<void>;
}

/**
 * What a worker runs: the outbox relay, the job processors and the repeatable jobs. The
 * worker process (`npm run worker`) runs only this; the API process runs it too unless
 * NOTIFICATION_WORKER=off. Either way it is this one function.
 */
export async function startBackgroundWork(deps: {
  config: Config;
  log: Logger;
  database: Database;
  jobs: JobQueue;
  bus: EventBus;
  metrics?: Metrics;
}): Promise<BackgroundWork> {
  const { config, database, jobs, bus } = deps;
  const log = deps.log.child({ module: 'worker' });
  const { db } = database;
  const mailer = createMailer(config.mail, log.child({ module: 'mail' }));
  let stopping = false;
  const notifications = new NotificationProcessors({ db, jobs, bus, mailer, config, log, stopping: () => stopping });
  const quizzes = new QuizProcessors({ db, jobs, bus, log: log.child({ module: 'quizzes' }) });
  const certificates = new CertificateProcessors({
    db,
    bus,
    log: log.child({ module: 'certificates' }),
    pdfUrl: certificatePdfUrl(config),
  });
  await jobs.work(
    instrumented(
      {
        ...notifications.processors(),
        ...quizzes.processors(),
        ...certificates.processors(),
        ...accountTokenProcessors({ db, mailer, log, publicAppUrl: config.mail.publicAppUrl }),
        ...maintenanceProcessors(db, log, {
          readRetentionDays: config.notifications.readRetentionDays,
          heal: () => notifications.heal(),
        }),
      },
      deps.metrics,
    ),
  );
  // Reminders live in the queue only; put back any it lost (a restart of the in-process queue).
  const reminders = await notifications.rebuildReminders().catch((err: unknown) => {
    log.warn({ err }, 'could not rebuild lesson reminders; the next start retries');
    return 0;
  });
  // Declared by every worker; BullMQ keeps one scheduler per id, so each fires once.
  await jobs.schedule('maintenance.activity-report', 'activity-report', config.notifications.activityReportCron);
  await jobs.schedule('maintenance.cleanup', 'cleanup', config.notifications.cleanupCron);

  const relay = new OutboxRelay(database, jobs, log.child({ module: 'outbox' }), {
    pollMs: config.notifications.outboxPollMs,
    requeueAfterMs: config.notifications.outboxRequeueAfterMs,
  });
  await relay.start();
  const batchSweep = startBatchSweep(notifications, config.notifications.outboxRequeueAfterMs, log);
  const expirySweep = startExpirySweep(quizzes, config.notifications.outboxPollMs, log);
  // The queue came back empty: what Postgres says is unfinished is queued again now, not
  // when the sweeps find it stale (the sweeps still run, for whatever this misses).
  jobs.onDataLost?.(() => {
    if (stopping) return;
    void (async () => {
      const events = await relay.requeueStuck(0);
      const { batches, emailRuns } = await notifications.requeueAfterLoss();
      log.warn({ events, batches, emailRuns }, 'queue lost its data; unfinished work queued again');
    })().catch((err: unknown) => log.warn({ err }, 'queueing unfinished work again failed; the sweeps retry'));
  });
  log.info(
    { queue: jobs.kind, mailer: mailer.kind, concurrency: config.jobs.concurrency, reminders },
    'background work started',
  );

  return {
    relay,
    async close() {
      stopping = true; // long jobs (email runs) stop early; what they leave is retried
      await batchSweep.stop();
      await expirySweep.stop();
      await relay.stop();
      await jobs.close();
      mailer.close();
    },
  };
}

/**
 * Queues again the jobs of notification batches still unfinished a while after they were
 * queued: Postgres holds the plan, so a job Redis lost (a restart without its data, a
 * failover) is re-created here. A batch whose job is still queued is re-added under the same
 * job id, which adds nothing; so the wait can be short (a minute, or the outbox's re-queue
 * time if that is shorter).
 */
function startBatchSweep(notifications: NotificationProcessors, outboxRequeueAfterMs: number, log: Logger) {
  const afterMs = Math.min(60_000, outboxRequeueAfterMs);
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= notifications
      .requeueStaleBatches(afterMs)
      .catch((err: unknown) => log.warn({ err }, 'notification batch sweep failed; the next one retries'))
      .finally(() => (running = undefined));
  }, afterMs / 2);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Grades timed quiz attempts left open past their deadline whose delayed job never ran (lost
 * with Redis data, or queued while no worker ran). Every five outbox polls (5 s by default),
 * between 1 and 30 s: one read of a small partial index when nothing is overdue.
 */
function startExpirySweep(quizzes: QuizProcessors, outboxPollMs: number, log: Logger) {
  const everyMs = Math.min(30_000, Math.max(1_000, outboxPollMs * 5));
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= quizzes
      .sweep()
      .catch((err: unknown) => log.warn({ err }, 'quiz expiry sweep failed; the next one retries'))
      .finally(() => (running = undefined));
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Counts and times every job run (completed or failed) for /metrics. */
function instrumented(processors: Processors, metrics: Metrics | undefined): Processors {
  if (!metrics) return processors;
  const wrapped = {} as Record<JobName, (data: never, job: never) => Promise<void>>;
  for (const [name, run] of Object.entries(processors) as Array<
    [JobName, (data: never, job: never) => Promise<void>]
  >) {
    wrapped[name] = async (data, job) => {
      const end = metrics.jobDuration.startTimer({ job: name });
      try {
        await run(data, job);
        metrics.jobs.inc({ job: name, outcome: 'completed' });
      } catch (err) {
        metrics.jobs.inc({ job: name, outcome: 'failed' });
        throw err;
      } finally {
        end();
      }
    };
  }
  return wrapped as unknown as Processors;
}
