import { CronExpressionParser } from 'cron-parser';
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

interface MemoryJob {
  id: string;
  name: JobName;
  data: unknown;
  attemptsMade: number;
  state: 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';
  createdAt: number;
  timer?: NodeJS.Timeout;
  finishedAt?: number;
}

/** setTimeout's limit (~24.8 days); longer delays re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Finished jobs remembered (for job-id de-duplication and inspection), at most. */
const MAX_FINISHED = 10_000;

/**
 * The embedded mode's job queue: the same semantics the processors rely on from BullMQ
 * (job-id de-duplication, delays, retries with jittered back-off, bounded concurrency per
 * queue, cron schedules, close waiting for jobs in hand), in this process's memory.
 *
 * Not durable: jobs waiting at exit are gone. The outbox relay marks events relayed once
 * queued here, so the embedded mode trades the crash guarantee for needing no Redis; a
 * production deployment sets REDIS_URL.
 */
export class MemoryJobQueue implements JobQueue {
  readonly kind = 'memory';
  private readonly jobs = new Map<string, MemoryJob>();
  private readonly waiting = new Map<QueueName, MemoryJob[]>(QUEUE_NAMES.map((q) => [q, []]));
  private readonly active = new Map<QueueName, number>(QUEUE_NAMES.map((q) => [q, 0]));
  private readonly inFlight = new Set<Promise<void>>();
  private readonly finished: MemoryJob[] = [];
  private readonly schedules = new Map<string, NodeJS.Timeout>();
  private processors: Processors | undefined;
  private closed = false;
  private nextId = 1;

  constructor(
    private readonly settings: QueueSettings,
    private readonly log: Logger,
  ) {}

  async add(specs: JobSpec[]): Promise<void> {
    // Adds are accepted while closing (jobs in hand may queue follow-ups); they just do not run.
    for (const spec of specs) {
      const id = spec.opts?.jobId ?? String(this.nextId++);
      if (this.jobs.has(id)) continue; // BullMQ semantics: an existing id adds nothing
      const job: MemoryJob = {
        id,
        name: spec.name,
        data: spec.data,
        attemptsMade: 0,
        state: 'waiting',
        createdAt: Date.now(),
      };
      this.jobs.set(id, job);
      this.enqueue(job, spec.opts?.delay ?? 0);
    }
  }

  async remove(_name: JobName, jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job || job.state === 'active') return;
    clearTimeout(job.timer);
    const queue = this.waiting.get(QUEUE_OF[job.name])!;
    const at = queue.indexOf(job);
    if (at >= 0) queue.splice(at, 1);
    this.jobs.delete(jobId);
  }

  async schedule(name: JobName, schedulerId: string, pattern: string): Promise<void> {
    clearTimeout(this.schedules.get(schedulerId));
    const arm = (next: number) => {
      const timer = setTimeout(
        () => {
          if (this.closed) return;
          // A timer cut short by setTimeout's limit re-arms for the same time.
          if (Date.now() < next) return arm(next);
          void this.add([{ name, data: {}, opts: { jobId: `${schedulerId}-${next}` } } as JobSpec]).catch(() => {});
          arm(CronExpressionParser.parse(pattern, { tz: 'UTC' }).next().getTime());
        },
        Math.min(Math.max(0, next - Date.now()), MAX_TIMER_MS),
      );
      timer.unref();
      this.schedules.set(schedulerId, timer);
    };
    arm(CronExpressionParser.parse(pattern, { tz: 'UTC' }).next().getTime());
  }

  async reviveFailed(queue: QueueName, maxAgeMs: number): Promise<number> {
    let revived = 0;
    for (const job of this.jobs.values()) {
      if (job.state !== 'failed' || QUEUE_OF[job.name] !== queue || Date.now() - job.createdAt > maxAgeMs) continue;
      job.attemptsMade = 0;
      job.finishedAt = undefined;
      this.enqueue(job, 0);
      revived++;
    }
    return revived;
  }

  async work(processors: Processors): Promise<void> {
    this.processors = processors;
    for (const queue of QUEUE_NAMES) this.pump(queue);
  }

  async counts(): Promise<QueueCounts> {
    const counts = Object.fromEntries(
      QUEUE_NAMES.map((q) => [q, { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 0 }]),
    ) as unknown as QueueCounts;
    for (const job of this.jobs.values()) counts[QUEUE_OF[job.name]]![job.state]!++;
    return counts;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.schedules.values()) clearTimeout(timer);
    for (const job of this.jobs.values()) clearTimeout(job.timer);
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(job: MemoryJob, delay: number): void {
    if (delay > 0) {
      job.state = 'delayed';
      job.timer = setTimeout(() => this.enqueue(job, delay - MAX_TIMER_MS), Math.min(delay, MAX_TIMER_MS));
      job.timer.unref();
      return;
    }
    job.state = 'waiting';
    const queue = QUEUE_OF[job.name];
    this.waiting.get(queue)!.push(job);
    this.pump(queue);
  }

  private pump(queue: QueueName): void {
    const waiting = this.waiting.get(queue)!;
    while (this.processors && !this.closed && waiting.length && this.active.get(queue)! < this.settings.concurrency) {
      const job = waiting.shift()!;
      this.active.set(queue, this.active.get(queue)! + 1);
      const run = this.run(job).finally(() => {
        this.inFlight.delete(run);
        this.active.set(queue, this.active.get(queue)! - 1);
        this.pump(queue);
      });
      this.inFlight.add(run);
    }
  }

  private async run(job: MemoryJob): Promise<void> {
    job.state = 'active';
    const processor = this.processors![job.name] as (
      data: unknown,
      info: { id: string; name: JobName; attemptsMade: number },
    ) => Promise<void>;
    try {
      await processor(job.data, { id: job.id, name: job.name, attemptsMade: job.attemptsMade });
      this.finish(job, 'completed');
    } catch (err) {
      job.attemptsMade++;
      const final = job.attemptsMade >= this.settings.attempts;
      this.log[final ? 'error' : 'warn'](
        { err, job: job.name, jobId: job.id, attempt: job.attemptsMade, final },
        'job failed',
      );
      if (final) this.finish(job, 'failed');
      else if (!this.closed) this.enqueue(job, backoffDelay(job.attemptsMade, this.settings.backoffMs));
    }
  }

  /** Keeps finished jobs for their retention time, and never more than MAX_FINISHED. */
  private finish(job: MemoryJob, state: 'completed' | 'failed'): void {
    job.state = state;
    job.finishedAt = Date.now();
    if (state === 'completed') job.data = undefined;
    this.finished.push(job);
    // Oldest first; failed jobs are kept as long as completed ones here (bounded either way).
    const keepMs = 1000 * Math.max(this.settings.keepFailedSeconds, this.settings.keepCompletedSeconds);
    while (
      this.finished.length > MAX_FINISHED ||
      (this.finished.length && Date.now() - this.finished[0]!.finishedAt! > keepMs)
    ) {
      const old = this.finished.shift()!;
      if (this.jobs.get(old.id) === old && old.finishedAt !== undefined) this.jobs.delete(old.id);
    }
  }
}
