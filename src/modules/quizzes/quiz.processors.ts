import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import { markOutboxProcessed } from '../../outbox/outbox.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics } from '../../pubsub/topics.js';
import type { JobPayloads, JobQueue, Processors } from '../../queue/jobs.js';
import { gradeAttempt } from './attempt.grader.js';
import {
  findAttemptsByIds,
  lockActiveEnrollment,
  lockAttempt,
  lockQuizForGrading,
  msUntilOverdue,
  overdueAttemptIds,
} from './quiz.repository.js';

export interface QuizProcessorDeps {
  readonly db: Db;
  readonly jobs: JobQueue;
  readonly bus: EventBus;
  readonly log: Logger;
}

/**
 * Expiry of timed attempts left open. Postgres is the record: the `quiz.attempt-started`
 * outbox event queues a delayed job for the deadline (+ grace); the job grades the attempt
 * EXPIRED if it is still open by the database clock; a periodic sweep grades whatever the
 * queue lost. Grading is conditional on IN_PROGRESS, so every path may run twice.
 */
export class QuizProcessors {
  constructor(private readonly deps: QuizProcessorDeps) {}

  processors(): Pick<Processors, 'quizzes.expire'> {
    return { 'quizzes.expire': (data) => this.expireJob(data) };
  }

  private async expireJob({ eventId, attemptId }: JobPayloads['quizzes.expire']): Promise<void> {
    const wait = await msUntilOverdue(this.deps.db, attemptId);
    if (wait !== null && wait > 0) {
      // Not due yet (the event's own job, or a clock between ours and the database's): due later.
      await this.deps.jobs.add([
        {
          name: 'quizzes.expire',
          data: { attemptId },
          opts: { jobId: `expire-${attemptId}-${Date.now()}`, delay: Math.ceil(wait) + 250 },
        },
      ]);
    } else if (wait !== null) await this.expire(attemptId);
    if (eventId) await markOutboxProcessed(this.deps.db, eventId);
  }

  /** Grades one attempt EXPIRED if it is still open past its deadline (by the database clock). */
  async expire(attemptId: string): Promise<boolean> {
    const { db, bus, log } = this.deps;
    const [row] = await findAttemptsByIds(db, [attemptId]);
    if (!row || row.status !== 'IN_PROGRESS') return false;
    const graded = await db.transaction(async (tx) => {
      // The same lock order as submissions: enrollment (if still active), quiz, attempt.
      const enrollment = await lockActiveEnrollment(tx, row.courseId, row.studentId);
      await lockQuizForGrading(tx, row.quizId);
      const attempt = await lockAttempt(tx, attemptId);
      if (!attempt || attempt.status !== 'IN_PROGRESS' || !attempt.overdue) return undefined;
      return gradeAttempt(tx, attempt, 'EXPIRED', enrollment);
    });
    if (!graded) return false;
    log.info({ attemptId, courseId: row.courseId }, 'quiz attempt expired');
    await Promise.all(
      [Topics.quizAttemptGraded(row.courseId), Topics.courseActivity(row.courseId)].map((topic) =>
        bus
          .publish(topic, { attemptId, courseId: row.courseId })
          .catch((err: unknown) => log.warn({ err, topic }, 'live update not published')),
      ),
    );
    return true;
  }

  /** Grades every attempt overdue now (jobs lost with Redis data, or a worker down at the time). */
  async sweep(): Promise<number> {
    let n = 0;
    for (;;) {
      const ids = await overdueAttemptIds(this.deps.db, 200);
      let round = 0;
      for (const id of ids) if (await this.expire(id)) round++;
      n += round;
      if (ids.length < 200 || round === 0) break;
    }
    if (n) this.deps.log.warn({ attempts: n }, 'quiz attempts left open past their deadline graded by the sweep');
    return n;
  }
}
