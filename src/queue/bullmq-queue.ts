import { Queue, Worker, type Job } from 'bullmq';
import type { RedisClient } from '../redis/redis.js';
import type { Logger } from '../logging/logger.js';
import {
  backoffDelay,
  QUEUE_NAMES,
  QUEUE_OF,
  type JobName,
  type JobQueue,
  type JobSpec,
  type Processors,
  type QueueCounts,
  type QueueName,
  type QueueSettings,
} from './jobs.js';
import { withTimeout } from '../util/with-timeout.js';

/** How long `add` may wait for Redis before the caller (the outbox relay) gives up and retries. */
const ADD_TIMEOUT_MS = 5_000;

/**
 * BullMQ on Redis. Producers fail fast (the outbox keeps what could not be added); workers
 * use their own blocking connections, which BullMQ requires to retry forever.
 *
 * Redis for BullMQ must not evict keys (`maxmemory-policy noeviction`): an evicted job or
 * lock is lost work. The cache belongs on another Redis (CACHE_REDIS_URL).
 */
export class BullJobQueue implements JobQueue {
  readonly kind = 'bullmq';
  private readonly producer: RedisClient;
  private readonly queues: Record<QueueName, Queue>;
  private readonly workers: Worker[] = [];
  private readonly workerConnections: RedisClient[] = [];
  private readonly lossListeners = new Set<() => void>();
  private readonly schedules = new Map<string, { name: JobName; pattern: string }>();

  /**
   * `connect` makes a connection without key prefix (BullMQ names its keys from `prefix`):
   * `blocking` ones are workers', which BullMQ requires to retry forever.
   */
  constructor(
    private readonly connect: (name: string, blocking: boolean) => RedisClient,
    private readonly prefix: string,
    private readonly settings: QueueSettings,
    private readonly log: Logger,
    /** How long `close` waits for the jobs in hand before it disconnects the workers. */
    private readonly drainMs = 30_000,
  ) {
    this.producer = connect('queue', false);
    // A Redis that lost its data (restarted without persistence, failed over) lost the job
    // schedulers too: declare them again whenever the connection comes back. A marker key
    // tells a Redis that kept its data from one that lost it; on a loss, whoever listens
    // (the workers) queues again at once what Postgres says is unfinished.
    let connectedBefore = false;
    const marker = `${prefix}:alive`;
    this.producer.on('ready', () => {
      const reconnected = connectedBefore;
      connectedBefore = true;
      if (reconnected) for (const [id, s] of this.schedules) void this.schedule(s.name, id, s.pattern).catch(() => {});
      void this.producer
        .set(marker, '1', 'NX')
        .then((created) => {
          if (!reconnected || created !== 'OK') return;
          log.warn('queue redis came back without its data; queueing unfinished work again');
          for (const listener of this.lossListeners) listener();
        })
        .catch((err: unknown) => log.warn({ err }, 'queue redis marker not checked'));
    });
    const defaultJobOptions = {
      attempts: settings.attempts,
      backoff: { type: 'jittered' },
      removeOnComplete: { age: settings.keepCompletedSeconds },
      removeOnFail: { age: settings.keepFailedSeconds },
    };
    this.queues = Object.fromEntries(
      QUEUE_NAMES.map((name) => {
        const queue = new Queue(name, { connection: this.producer, prefix, defaultJobOptions });
        queue.on('error', (err) => log.warn({ err, queue: name }, 'queue error'));
        return [name, queue];
      }),
    ) as Record<QueueName, Queue>;
  }

  onDataLost(listener: () => void): void {
    this.lossListeners.add(listener);
  }

  async add(jobs: JobSpec[]): Promise<void> {
    const byQueue = new Map<QueueName, JobSpec[]>();
    for (const job of jobs)
      (byQueue.get(QUEUE_OF[job.name]) ?? byQueue.set(QUEUE_OF[job.name], []).get(QUEUE_OF[job.name])!).push(job);
    await withTimeout(
      Promise.all(
        [...byQueue].map(([queue, specs]) =>
          this.queues[queue].addBulk(
            specs.map((s) => ({ name: s.name, data: s.data, opts: { jobId: s.opts?.jobId, delay: s.opts?.delay } })),
          ),
        ),
      ),
      ADD_TIMEOUT_MS,
      'adding jobs to the queue',
    );
  }

  async remove(name: JobName, jobId: string): Promise<void> {
    // Returns 0 for a job that is running (locked) or gone: both are fine for our callers.
    await this.queues[QUEUE_OF[name]].remove(jobId);
  }

  async reviveFailed(queue: QueueName, maxAgeMs: number): Promise<number> {
    const failed = await this.queues[queue].getFailed(0, 999);
    let revived = 0;
    for (const job of failed) {
      if (Date.now() - job.timestamp > maxAgeMs) continue;
      await (job as Job).retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).then(
        () => revived++,
        () => {}, // removed or retried meanwhile
      );
    }
    return revived;
  }

  async schedule(name: JobName, schedulerId: string, pattern: string): Promise<void> {
    this.schedules.set(schedulerId, { name, pattern });
    await this.queues[QUEUE_OF[name]].upsertJobScheduler(schedulerId, { pattern, tz: 'UTC' }, { name, data: {} });
  }

  async work(processors: Processors): Promise<void> {
    for (const queue of QUEUE_NAMES) {
      const connection = this.connect(`worker:${queue}`, true);
      this.workerConnections.push(connection);
      const worker = new Worker(
        queue,
        async (job: Job) => {
          const run = processors[job.name as JobName] as (
            data: unknown,
            info: { id: string; name: JobName; attemptsMade: number },
          ) => Promise<void>;
          if (!run) throw new Error(`no processor for job ${job.name}`);
          await run(job.data, { id: job.id!, name: job.name as JobName, attemptsMade: job.attemptsMade });
        },
        {
          connection,
          prefix: this.prefix,
          concurrency: this.settings.concurrency,
          lockDuration: this.settings.lockDurationMs,
          stalledInterval: this.settings.stalledIntervalMs,
          maxStalledCount: 2,
          settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, this.settings.backoffMs) },
        },
      );
      worker.on('error', (err) => this.log.warn({ err, queue }, 'worker error'));
      worker.on('failed', (job, err) => {
        const final = job && job.attemptsMade >= (job.opts.attempts ?? 1);
        this.log[final ? 'error' : 'warn'](
          { err, queue, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, final },
          'job failed',
        );
      });
      worker.on('stalled', (jobId) => this.log.warn({ queue, jobId }, 'stalled job returned to the queue'));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  async counts(): Promise<QueueCounts> {
    const entries = await Promise.all(
      QUEUE_NAMES.map(
        async (name) =>
          [name, await this.queues[name].getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')] as const,
      ),
    );
    return Object.fromEntries(entries) as QueueCounts;
  }

  /**
   * Workers first: `Worker.close()` waits for the jobs in hand to finish, and for Redis to
   * take their results. Redis may be gone for good (a single server down): after `drainMs` the
   * worker is disconnected instead. A job cut short that way keeps its lock until it expires,
   * then another worker runs it again (processors are safe to run twice; Postgres keeps what
   * they did).
   */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map((w) =>
        withTimeout(w.close(), this.drainMs, `closing worker ${w.name}`).catch(async (err: unknown) => {
          this.log.warn({ err, queue: w.name }, 'worker did not close in time; disconnecting it');
          await withTimeout(w.disconnect(), 2_000, `disconnecting worker ${w.name}`).catch(() => {});
        }),
      ),
    );
    await Promise.all(Object.values(this.queues).map((q) => q.close().catch(() => {})));
    for (const c of this.workerConnections) c.disconnect();
    this.producer.disconnect();
  }
}
